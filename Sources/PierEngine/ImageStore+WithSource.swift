import PierModel

extension ImageStore {
    /// Runs `body` with `location` open as a source, closing it however `body` ends (scratch directories of
    /// archives are removed, connections returned).
    public func withSource<T: Sendable>(
        _ location: ImageLocation, _ body: (any ImageSource) async throws(PierError) -> T
    ) async throws(PierError) -> T {
        let source = try await openSource(location)
        do {
            let result = try await body(source)
            await source.close()
            return result
        } catch {
            await source.close()
            throw error
        }
    }
}
