import Foundation
import NIOHTTP1
import PierHTTP
import PierModel

extension APIClient {
    /// Follows `Link: <…>; rel="next"` from `first` like `pages`, for a listing that must be whole (repository
    /// discovery): a next page that repeats one already read, lies on another origin (the token in `headers` goes
    /// to the API's origin only), or comes after `maximumPages` pages is an error instead of the end of the list.
    func completePages(
        _ first: String, headers: HTTPHeaders, operation: String, maximumPages: Int,
        _ page: (Answer) throws(PierError) -> Void
    ) async throws(PierError) {
        var url = first
        var seen: Set<String> = [first]
        while true {
            let answer = try await call(.GET, url, headers: headers, operation: operation)
            try page(answer)
            let link = answer.headers.first(name: "Link").flatMap(LinkHeader.next(in:))
            guard
                let next = try nextPage(link, after: url, seen: &seen, maximumPages: maximumPages, operation: operation)
            else { return }
            url = next
        }
    }

    /// The `field` of every entry of a whole listing of JSON lists, read from the first of `urls` that exists (a
    /// 404 tries the next); nil when none does. At most `RepositoryListingLimits.maximumRepositories` entries.
    func listedNames(
        _ urls: [String], field: String, headers: HTTPHeaders, api: String, operation: String, registry: String
    ) async throws(PierError) -> [String]? {
        for url in urls {
            var names: [String] = []
            var pages = 0
            do {
                try await completePages(
                    url, headers: headers, operation: operation, maximumPages: RepositoryListingLimits.maximumPages
                ) { (answer) throws(PierError) in
                    guard let list = answer.json as? [[String: Any]] else {
                        throw PierError(
                            .invalidInput, operation: operation, message: "the \(api)'s answer is not a list",
                            registry: registry)
                    }
                    pages += 1
                    for entry in list {
                        guard let name = entry[field] as? String else {
                            throw PierError(
                                .invalidInput, operation: operation,
                                message: "the \(api) listed an entry without a \(field)", registry: registry,
                                hint: "pier will not act on a partial list")
                        }
                        names.append(name)
                    }
                    guard names.count <= RepositoryListingLimits.maximumRepositories else {
                        throw RepositoryListingLimits.tooMany(api, operation: operation, registry: registry)
                    }
                }
            } catch {
                // Only a first page that is not there means "not this kind of owner"; a later one breaks the list.
                if error.kind == .notFound, pages == 0 { continue }
                throw error
            }
            return names
        }
        return nil
    }

    /// The next page of a listing that must be whole, resolved against `url`; nil at the end. A link that repeats
    /// a page already read, lies on another origin, or comes after `maximumPages` pages is an error.
    func nextPage(
        _ link: String?, after url: String, seen: inout Set<String>, maximumPages: Int, operation: String
    ) throws(PierError) -> String? {
        guard let link else { return nil }
        guard let next = Self.sameOrigin(link, as: url) else {
            throw broken(operation, url: url, "the next page is on another origin than \(URLText.origin(of: url))")
        }
        guard seen.insert(next).inserted else {
            throw broken(operation, url: url, "the next page links back to a page already read")
        }
        guard seen.count <= maximumPages else {
            throw broken(operation, url: url, "the listing did not end after \(maximumPages) pages")
        }
        return next
    }

    private func broken(_ operation: String, url: String, _ message: String) -> PierError {
        PierError(
            .invalidInput, operation: operation, message: "\(service): \(message)",
            registry: URLComponents(string: url)?.host,
            hint: "the API's pagination is broken; pier will not act on a partial list")
    }
}
