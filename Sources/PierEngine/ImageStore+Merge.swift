import PierModel

extension ImageStore {
    /// Opens every location, merges them (`ImageMerger`) and runs `body` with the merged image, closing every
    /// source however `body` ends.
    public func withMergedSource<T: Sendable>(
        _ locations: [ImageLocation], _ body: (MergedImageSource) async throws(PierError) -> T
    ) async throws(PierError) -> T {
        var opened: [any ImageSource] = []
        func closeAll() async { for source in opened { await source.close() } }
        do {
            for location in locations { opened.append(try await openSource(location)) }
            let merged = try await ImageMerger.merge(opened)
            let result = try await body(merged)
            await closeAll()
            return result
        } catch {
            await closeAll()
            throw error
        }
    }
}
