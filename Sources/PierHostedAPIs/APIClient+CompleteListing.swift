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
            guard let link = answer.headers.first(name: "Link").flatMap(LinkHeader.next(in:)) else { return }
            let host = URLText.origin(of: url)
            guard let next = Self.sameOrigin(link, as: url) else {
                throw broken(operation, url: url, "the next page is on another origin than \(host)")
            }
            guard seen.insert(next).inserted else {
                throw broken(operation, url: url, "the next page links back to a page already read")
            }
            guard seen.count <= maximumPages else {
                throw broken(operation, url: url, "the listing did not end after \(maximumPages) pages")
            }
            url = next
        }
    }

    private func broken(_ operation: String, url: String, _ message: String) -> PierError {
        PierError(
            .invalidInput, operation: operation, message: "\(service): \(message)",
            registry: URLComponents(string: url)?.host,
            hint: "the API's pagination is broken; pier will not act on a partial list")
    }
}
