import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension FakeManagementAPI {
    /// Seeds an owner's container packages (`GET /orgs/OWNER/packages`, or `/users/OWNER/packages` for a user).
    public func seedPackages(owner: String, user: Bool = false, _ names: [String]) async {
        await state.setPackages(owner, user: user, names)
    }
    /// Seeds a group's registry repositories (`GET /api/v4/groups/GROUP/registry/repositories`), full paths.
    public func seedGroup(_ group: String, _ paths: [String]) async { await state.setGroup(group, paths) }
    /// Seeds the repositories ECR's DescribeRepositories answers (`POST /`, AWS JSON 1.1).
    public func seedECRRepositories(_ names: [String]) async { await state.setECRRepositories(names) }
    /// The most entries one page of a GitLab group listing or an ECR DescribeRepositories answer holds.
    public func setListingPageLimit(_ limit: Int) async { await state.setListingPageLimit(limit) }
    /// A `Link` next URL the GitHub and GitLab listings send instead of their own (a foreign origin, a loop).
    public func overrideNextLink(_ link: String?) async { await state.setNextLinkOverride(link) }

    /// The listing routes, paginated as the services document: GitHub and GitLab by `per_page` and `page` with the
    /// next page in `Link`, ECR by `maxResults` and an opaque `nextToken`. GitHub and GitLab listings record every
    /// request before checking its token, so a request that should never have been sent is counted.
    static func addListingRoutes(_ router: Router<BasicRequestContext>, state: State) {
        @Sendable func json(_ status: HTTPResponse.Status, _ object: Any, link: String? = nil) throws -> Response {
            var headers: HTTPFields = [.contentType: "application/json"]
            if let link { headers[HTTPField.Name("Link")!] = "<\(link)>; rel=\"next\"" }
            return Response(
                status: status, headers: headers,
                body: .init(byteBuffer: ByteBuffer(data: try JSONSerialization.data(withJSONObject: object))))
        }
        @Sendable func page(_ request: Request) -> Int {
            max(1, Int(request.uri.queryParameters.get("page") ?? "") ?? 1)
        }
        @Sendable func perPage(_ request: Request, limit: Int) -> Int {
            min(limit, Int(request.uri.queryParameters.get("per_page") ?? "") ?? 30)
        }
        @Sendable func next(_ request: Request, count: Int, page: Int, size: Int, query: String) async -> String? {
            guard count > page * size else { return nil }
            return await state.nextLinkOverride ?? "\(request.uri.path)?\(query)per_page=\(size)&page=\(page + 1)"
        }
        @Sendable func packages(_ request: Request, owner: String, user: Bool) async throws -> Response {
            let number = page(request)
            await state.record("github PACKAGES \(user ? "users" : "orgs")/\(owner) page \(number)")
            guard request.headers[.authorization] == "Bearer \(githubToken)" else {
                return try json(.unauthorized, ["message": "Bad credentials"])
            }
            guard request.uri.queryParameters.get("package_type") == "container" else {
                return try json(.badRequest, ["message": "package_type is required"])
            }
            guard let known = await state.packages[owner], known.user == user else {
                return try json(.notFound, ["message": "Not Found"])
            }
            let size = perPage(request, limit: await state.gitHubPageLimit)
            let list = known.names.dropFirst((number - 1) * size).prefix(size).enumerated().map {
                ["id": 500 + $0.offset, "name": $0.element, "package_type": "container"] as [String: Any]
            }
            return try json(
                .ok, list,
                link: await next(
                    request, count: known.names.count, page: number, size: size, query: "package_type=container&"))
        }
        router.get("/orgs/:org/packages") { request, context -> Response in
            try await packages(request, owner: context.parameters.get("org")!, user: false)
        }
        router.get("/users/:owner/packages") { request, context -> Response in
            try await packages(request, owner: context.parameters.get("owner")!, user: true)
        }
        router.get("/api/v4/groups/:group/registry/repositories") { request, context -> Response in
            let group = context.parameters.get("group")!.removingPercentEncoding!
            let number = page(request)
            await state.record("gitlab GROUP \(group) page \(number)")
            guard request.headers[HTTPField.Name("PRIVATE-TOKEN")!] == gitlabToken else {
                return try json(.unauthorized, ["message": "401 Unauthorized"])
            }
            guard let paths = await state.groups[group] else {
                return try json(.notFound, ["message": "404 Group Not Found"])
            }
            let size = perPage(request, limit: await state.listingPageLimit)
            let list = paths.dropFirst((number - 1) * size).prefix(size).enumerated().map {
                ["id": 700 + $0.offset, "path": $0.element, "location": "registry.example/\($0.element)"]
                    as [String: Any]
            }
            return try json(
                .ok, list, link: await next(request, count: paths.count, page: number, size: size, query: ""))
        }
        router.post("/") { request, _ -> Response in
            guard (request.headers[.authorization] ?? "").hasPrefix("AWS4-HMAC-SHA256 Credential=") else {
                return try json(.forbidden, ["__type": "UnrecognizedClientException", "message": "not signed"])
            }
            guard
                request.headers[HTTPField.Name("X-Amz-Target")!]
                    == "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories"
            else { return try json(.badRequest, ["__type": "UnknownOperationException"]) }
            var request = request
            let body =
                try JSONSerialization.jsonObject(with: Data(buffer: try await request.collectBody(upTo: 1 << 20)))
                as? [String: Any] ?? [:]
            let size = min(await state.listingPageLimit, body["maxResults"] as? Int ?? 100)
            let offset = (body["nextToken"] as? String).flatMap { Int($0.dropFirst("token-".count)) } ?? 0
            await state.record("ecr DESCRIBE from \(offset) registry \(body["registryId"] as? String ?? "-")")
            let names = await state.ecrRepositories
            var answer: [String: Any] = [
                "repositories": names.dropFirst(offset).prefix(size).map { ["repositoryName": $0] }
            ]
            if names.count > offset + size { answer["nextToken"] = "token-\(offset + size)" }
            return try json(.ok, answer)
        }
    }
}
