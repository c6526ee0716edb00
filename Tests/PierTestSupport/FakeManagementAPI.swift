import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// In-process fakes of the registries' management APIs, following their documented paths, auth headers and
/// answers: Docker Hub (`/v2/users/login`, tag list with `tag_last_pushed`, tag DELETE), GitHub packages (versions
/// paginated by `per_page` ≤ 100 with `created_at`/`updated_at`, untagged versions, version DELETE, rate limits on
/// demand), GitLab (registry repositories, tag list and details with `created_at`, tag DELETE) and Harbor (artifact
/// list with `push_time`, artifact and tag DELETE), and the repository listings discovery reads (GitHub packages,
/// GitLab group registry repositories, ECR DescribeRepositories). Every request is counted.
public final class FakeManagementAPI: Sendable {
    public static let hubUser = "hubuser"
    public static let hubPassword = "hub-token"
    public static let githubToken = "ghp_test"
    public static let gitlabToken = "glpat-test"
    public static let harborAuth = "Basic " + Data("admin:Harbor12345".utf8).base64EncodedString()

    actor State {
        /// Tags by repository, as "digest" values.
        var tags: [String: [String: String]] = [:]
        var calls: [String] = []
        func record(_ call: String) { calls.append(call) }
        func set(_ repository: String, _ tag: String, _ digest: String) { tags[repository, default: [:]][tag] = digest }
        func removeTag(_ repository: String, _ tag: String) -> Bool {
            tags[repository]?.removeValue(forKey: tag) != nil
        }
        func removeDigest(_ repository: String, _ digest: String) -> Bool {
            let before = tags[repository]?.count ?? 0
            tags[repository] = tags[repository]?.filter { $0.value != digest }
            return (tags[repository]?.count ?? 0) < before
        }
        func digests(_ repository: String) -> [String] {
            Array(Set((tags[repository] ?? [:]).values).union(untagged[repository] ?? [])).sorted()
        }
        /// Manifests without tags (index children, old builds), by repository.
        var untagged: [String: Set<String>] = [:]
        /// Push times (RFC 3339) by repository and digest.
        var pushed: [String: [String: String]] = [:]
        /// Stable package version ids by repository and digest, assigned on first sight.
        var versionIDs: [String: [String: Int]] = [:]
        func versionID(_ repository: String, _ digest: String) -> Int {
            if let id = versionIDs[repository]?[digest] { return id }
            let id = 1000 + (versionIDs[repository]?.count ?? 0)
            versionIDs[repository, default: [:]][digest] = id
            return id
        }
        func removeUntagged(_ repository: String, _ digest: String) -> Bool {
            untagged[repository]?.remove(digest) != nil
        }
        /// Answers queued for the next GitHub requests (status and headers), before any real answer.
        var gitHubFaults: [(Int, [String: String])] = []
        func nextGitHubFault() -> (Int, [String: String])? { gitHubFaults.isEmpty ? nil : gitHubFaults.removeFirst() }
        /// The most versions one GitHub page holds (GitHub: `per_page` ≤ 100, default 30).
        var gitHubPageLimit = 100
        func seedExtra(_ repository: String, _ dates: [String: String], _ loose: [String]) {
            pushed[repository, default: [:]].merge(dates) { $1 }
            untagged[repository, default: []].formUnion(loose)
        }
        func setFaults(_ faults: [(Int, [String: String])]) { gitHubFaults = faults }
        func setPageLimit(_ limit: Int) { gitHubPageLimit = limit }
        /// Releases by "project#tag": name and body.
        var releases: [String: [String: String]] = [:]
        var descriptions: [String: [String: String]] = [:]
        func setRelease(_ key: String, _ value: [String: String]) { releases[key] = value }
        /// GitHub release assets by id: the release id, the name and the SHA-256 of the bytes uploaded.
        var assets: [Int: [String: String]] = [:]
        var nextAssetID = 9000
        func addAsset(release: String, name: String, sha256: String) -> Int {
            nextAssetID += 1
            assets[nextAssetID] = ["release": release, "name": name, "sha256": sha256]
            return nextAssetID
        }
        func removeAsset(_ id: Int) -> Bool { assets.removeValue(forKey: id) != nil }
        func describe(_ repository: String, _ value: [String: String]) {
            descriptions[repository, default: [:]].merge(value) { $1 }
        }
        /// Repository listings for discovery: GitHub container packages by owner (and whether the owner is a
        /// user), GitLab registry repository paths by group, ECR repository names; the most one page of a GitLab
        /// or ECR listing holds; a next-page link to send instead of the fake's own.
        var packages: [String: (user: Bool, names: [String])] = [:]
        var groups: [String: [String]] = [:]
        var ecrRepositories: [String] = []
        var listingPageLimit = 100
        var nextLinkOverride: String?
        func setPackages(_ owner: String, user: Bool, _ names: [String]) { packages[owner] = (user, names) }
        func setGroup(_ group: String, _ paths: [String]) { groups[group] = paths }
        func setECRRepositories(_ names: [String]) { ecrRepositories = names }
        func setListingPageLimit(_ limit: Int) { listingPageLimit = limit }
        func setNextLinkOverride(_ link: String?) { nextLinkOverride = link }
    }

    public func releases() async -> [String: [String: String]] { await state.releases }
    /// GitHub release assets: name → SHA-256 hex of the uploaded bytes, for one release id.
    public func releaseAssets(release: String) async -> [String: String] {
        Dictionary(
            uniqueKeysWithValues: await state.assets.values.filter { $0["release"] == release }.map {
                ($0["name"]!, $0["sha256"]!)
            })
    }
    public func descriptions() async -> [String: [String: String]] { await state.descriptions }

    let state = State()
    let server: TestServer
    public var base: String { "http://127.0.0.1:\(server.port)" }

    public func tags(_ repository: String) async -> [String: String] { await state.tags[repository] ?? [:] }
    public func calls() async -> [String] { await state.calls }
    public func seed(_ repository: String, _ tags: [String: String]) async {
        for (tag, digest) in tags { await state.set(repository, tag, digest) }
    }
    /// Records push times (RFC 3339) per digest, and untagged manifests.
    public func seed(_ repository: String, pushed: [String: String] = [:], untagged: [String] = []) async {
        await state.seedExtra(repository, pushed, untagged)
    }
    /// Queues answers for the next GitHub requests: `(429, ["retry-after": "0"])`, …
    public func failGitHub(_ faults: [(Int, [String: String])]) async { await state.setFaults(faults) }
    public func setGitHubPageLimit(_ limit: Int) async { await state.setPageLimit(limit) }
    public func untagged(_ repository: String) async -> Set<String> { await state.untagged[repository] ?? [] }

    public init() async throws {
        let state = self.state
        let router = Router()
        @Sendable func text(_ status: HTTPResponse.Status, _ body: String = "") -> Response {
            Response(
                status: status, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        // Docker Hub
        router.post("/v2/users/login") { request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 16)
            let json = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: String]
            await state.record("hub LOGIN")
            guard json?["username"] == Self.hubUser, json?["password"] == Self.hubPassword else {
                return text(.unauthorized, #"{"detail":"Incorrect authentication credentials"}"#)
            }
            return text(.ok, #"{"token":"hub-jwt"}"#)
        }
        router.delete("/v2/repositories/:namespace/:repo/tags/:tag/") { request, context -> Response in
            guard request.headers[.authorization] == "JWT hub-jwt" else { return text(.unauthorized) }
            let repository = "\(context.parameters.get("namespace")!)/\(context.parameters.get("repo")!)"
            await state.record("hub DELETE \(repository):\(context.parameters.get("tag")!)")
            return await state.removeTag(repository, context.parameters.get("tag")!)
                ? Response(status: .noContent) : text(.notFound)
        }
        // GitHub packages: a version per digest (tagged or not), `per_page` honoured up to the page limit.
        @Sendable func gitHubFault() async -> Response? {
            guard let (status, headers) = await state.nextGitHubFault() else { return nil }
            var fields: HTTPFields = [.contentType: "application/json"]
            for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
            return Response(
                status: .init(code: status), headers: fields,
                body: .init(byteBuffer: ByteBuffer(string: #"{"message":"You have exceeded a secondary rate limit"}"#)))
        }
        router.get("/orgs/:org/packages/container/:package/versions") { request, context -> Response in
            guard request.headers[.authorization] == "Bearer \(Self.githubToken)" else { return text(.unauthorized) }
            let repository =
                "\(context.parameters.get("org")!)/\(context.parameters.get("package")!.removingPercentEncoding!)"
            await state.record("github LIST \(repository)")
            if let fault = await gitHubFault() { return fault }
            let digests = await state.digests(repository)
            let page = max(1, Int(request.uri.queryParameters.get("page") ?? "1") ?? 1)
            let perPage = min(
                await state.gitHubPageLimit, Int(request.uri.queryParameters.get("per_page") ?? "30") ?? 30)
            let slice = digests.dropFirst((page - 1) * perPage).prefix(perPage)
            let tags = await state.tags[repository] ?? [:]
            let dates = await state.pushed[repository] ?? [:]
            var versions: [[String: Any]] = []
            for digest in slice {
                var version: [String: Any] = [
                    "id": await state.versionID(repository, digest), "name": digest,
                    "metadata": [
                        "package_type": "container",
                        "container": ["tags": tags.filter { $0.value == digest }.map(\.key).sorted()],
                    ],
                ]
                if let date = dates[digest] {
                    version["created_at"] = date
                    version["updated_at"] = date
                }
                versions.append(version)
            }
            var headers: HTTPFields = [.contentType: "application/json"]
            if digests.count > page * perPage {
                let next = await state.nextLinkOverride ?? "\(request.uri.path)?per_page=\(perPage)&page=\(page + 1)"
                headers[HTTPField.Name("Link")!] = "<\(next)>; rel=\"next\""
            }
            return Response(
                status: .ok, headers: headers,
                body: .init(byteBuffer: ByteBuffer(data: try JSONSerialization.data(withJSONObject: versions))))
        }
        router.delete("/orgs/:org/packages/container/:package/versions/:id") { request, context -> Response in
            guard request.headers[.authorization] == "Bearer \(Self.githubToken)" else { return text(.unauthorized) }
            if let fault = await gitHubFault() { return fault }
            let repository =
                "\(context.parameters.get("org")!)/\(context.parameters.get("package")!.removingPercentEncoding!)"
            let ids = await state.versionIDs[repository] ?? [:]
            guard let id = Int(context.parameters.get("id")!), let digest = ids.first(where: { $0.value == id })?.key,
                await state.digests(repository).contains(digest)
            else { return text(.notFound) }
            await state.record("github DELETE \(repository)@\(digest)")
            _ = await state.removeDigest(repository, digest)
            _ = await state.removeUntagged(repository, digest)
            return Response(status: .noContent)
        }
        // Docker Hub tag list (Hub API "List repository tags"), `page_size` per page, `next` as an absolute URL.
        router.get("/v2/namespaces/:namespace/repositories/:repo/tags") { request, context -> Response in
            guard request.headers[.authorization] == "JWT hub-jwt" else { return text(.unauthorized) }
            let repository = "\(context.parameters.get("namespace")!)/\(context.parameters.get("repo")!)"
            await state.record("hub LIST \(repository)")
            let tags = (await state.tags[repository] ?? [:]).sorted { $0.key < $1.key }
            let dates = await state.pushed[repository] ?? [:]
            let page = max(1, Int(request.uri.queryParameters.get("page") ?? "1") ?? 1)
            let size = min(100, Int(request.uri.queryParameters.get("page_size") ?? "10") ?? 10)
            let results = tags.dropFirst((page - 1) * size).prefix(size).map { tag, digest -> [String: Any] in
                ["name": tag, "digest": digest, "tag_last_pushed": dates[digest] ?? NSNull(), "tag_status": "active"]
            }
            let next: Any =
                tags.count > page * size
                ? "\(request.uri.path)?page_size=\(size)&page=\(page + 1)" : NSNull()
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(
                    byteBuffer: ByteBuffer(
                        data: try JSONSerialization.data(
                            withJSONObject: ["count": tags.count, "next": next, "results": results] as [String: Any]))))
        }
        // GitLab
        router.get("/api/v4/projects/:project/registry/repositories") { request, context -> Response in
            guard request.headers[HTTPField.Name("PRIVATE-TOKEN")!] == Self.gitlabToken else {
                return text(.unauthorized)
            }
            let project = context.parameters.get("project")!.removingPercentEncoding!
            let known = await state.tags.keys.filter { $0.hasPrefix(project) }
            let all = known.sorted().enumerated().map {
                ["id": $0.offset + 1, "path": $0.element, "location": "registry/\($0.element)"] as [String: Any]
            }
            // The fake's projects are `group/project`; a longer path is an image inside one.
            if project.split(separator: "/").count != 2 {
                return text(.notFound, #"{"message":"404 Project Not Found"}"#)
            }
            // GitLab's offset pagination: `per_page` (at most 100) and `page`, the next page in `Link`.
            let size = min(100, Int(request.uri.queryParameters.get("per_page") ?? "") ?? 20)
            let page = max(1, Int(request.uri.queryParameters.get("page") ?? "") ?? 1)
            await state.record("gitlab REPOSITORIES \(project) page \(page)")
            var headers: HTTPFields = [.contentType: "application/json"]
            if all.count > page * size {
                headers[HTTPField.Name("Link")!] =
                    "<\(request.uri.path)?per_page=\(size)&page=\(page + 1)>; rel=\"next\""
            }
            let list = Array(all.dropFirst((page - 1) * size).prefix(size))
            return Response(
                status: .ok, headers: headers,
                body: .init(byteBuffer: ByteBuffer(data: try JSONSerialization.data(withJSONObject: list))))
        }
        router.get("/api/v4/projects/:project/registry/repositories/:id/tags") { request, context -> Response in
            guard request.headers[HTTPField.Name("PRIVATE-TOKEN")!] == Self.gitlabToken else {
                return text(.unauthorized)
            }
            let project = context.parameters.get("project")!.removingPercentEncoding!
            let known = await state.tags.keys.filter { $0.hasPrefix(project) }.sorted()
            guard let id = Int(context.parameters.get("id")!), known.indices.contains(id - 1) else {
                return text(.notFound)
            }
            await state.record("gitlab LIST \(known[id - 1])")
            let names = (await state.tags[known[id - 1]] ?? [:]).keys.sorted().map {
                ["name": $0, "path": "\(known[id - 1]):\($0)"]
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(data: try JSONSerialization.data(withJSONObject: names))))
        }
        router.get("/api/v4/projects/:project/registry/repositories/:id/tags/:tag") { request, context -> Response in
            guard request.headers[HTTPField.Name("PRIVATE-TOKEN")!] == Self.gitlabToken else {
                return text(.unauthorized)
            }
            let project = context.parameters.get("project")!.removingPercentEncoding!
            let known = await state.tags.keys.filter { $0.hasPrefix(project) }.sorted()
            guard let id = Int(context.parameters.get("id")!), known.indices.contains(id - 1),
                let digest = await state.tags[known[id - 1]]?[context.parameters.get("tag")!]
            else { return text(.notFound) }
            var detail: [String: Any] = ["name": context.parameters.get("tag")!, "digest": digest]
            detail["created_at"] = await state.pushed[known[id - 1]]?[digest]
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(data: try JSONSerialization.data(withJSONObject: detail))))
        }
        router.delete("/api/v4/projects/:project/registry/repositories/:id/tags/:tag") { request, context -> Response in
            guard request.headers[HTTPField.Name("PRIVATE-TOKEN")!] == Self.gitlabToken else {
                return text(.unauthorized)
            }
            let project = context.parameters.get("project")!.removingPercentEncoding!
            let known = await state.tags.keys.filter { $0.hasPrefix(project) }.sorted()
            guard let id = Int(context.parameters.get("id")!), known.indices.contains(id - 1) else {
                return text(.notFound)
            }
            await state.record("gitlab DELETE \(known[id - 1]):\(context.parameters.get("tag")!)")
            return await state.removeTag(known[id - 1], context.parameters.get("tag")!)
                ? Response(status: .ok) : text(.notFound)
        }
        // Harbor
        router.get("/api/v2.0/projects/:project/repositories/:repo/artifacts") { request, context -> Response in
            guard request.headers[.authorization] == Self.harborAuth else { return text(.unauthorized) }
            let repository =
                "\(context.parameters.get("project")!)/\(context.parameters.get("repo")!.removingPercentEncoding!.removingPercentEncoding!)"
            await state.record("harbor LIST \(repository)")
            let tags = await state.tags[repository] ?? [:]
            let dates = await state.pushed[repository] ?? [:]
            var artifacts: [[String: Any]] = []
            for digest in await state.digests(repository) {
                artifacts.append([
                    "digest": digest, "push_time": dates[digest] ?? NSNull(),
                    "tags": tags.filter { $0.value == digest }.map { ["name": $0.key] },
                ])
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(data: try JSONSerialization.data(withJSONObject: artifacts))))
        }
        router.delete("/api/v2.0/projects/:project/repositories/:repo/artifacts/:reference/tags/:tag") {
            request, context -> Response in
            guard request.headers[.authorization] == Self.harborAuth else { return text(.unauthorized) }
            let repository =
                "\(context.parameters.get("project")!)/\(context.parameters.get("repo")!.removingPercentEncoding!.removingPercentEncoding!)"
            await state.record("harbor DELETE \(repository):\(context.parameters.get("tag")!)")
            return await state.removeTag(repository, context.parameters.get("tag")!)
                ? Response(status: .ok) : text(.notFound)
        }
        router.delete("/api/v2.0/projects/:project/repositories/:repo/artifacts/:reference") {
            request, context -> Response in
            guard request.headers[.authorization] == Self.harborAuth else { return text(.unauthorized) }
            let repository =
                "\(context.parameters.get("project")!)/\(context.parameters.get("repo")!.removingPercentEncoding!.removingPercentEncoding!)"
            await state.record("harbor DELETE \(repository)@\(context.parameters.get("reference")!)")
            let untagged = await state.removeUntagged(repository, context.parameters.get("reference")!)
            return await state.removeDigest(repository, context.parameters.get("reference")!) || untagged
                ? Response(status: .ok) : text(.notFound)
        }
        // Docker Hub repository description
        router.patch("/v2/repositories/:namespace/:repo/") { request, context -> Response in
            guard request.headers[.authorization] == "JWT hub-jwt" else { return text(.unauthorized) }
            var request = request
            let body =
                try JSONSerialization.jsonObject(with: Data(buffer: try await request.collectBody(upTo: 1 << 20)))
                as? [String: String] ?? [:]
            if (body["description"] ?? "").count > 100 {
                return text(.badRequest, #"{"message":"description too long"}"#)
            }
            await state.describe("\(context.parameters.get("namespace")!)/\(context.parameters.get("repo")!)", body)
            return text(.ok, "{}")
        }
        // GitHub releases
        /// A release as GitHub answers it: id, tag, html_url, the upload_url template and the assets.
        @Sendable func releaseJSON(_ release: [String: String], _ request: Request, _ context: BasicRequestContext)
            async throws -> String
        {
            let id = release["id"]!
            let assets = await state.assets.filter { $0.value["release"] == id }.map {
                ["id": $0.key, "name": $0.value["name"]!] as [String: Any]
            }
            let upload =
                "http://\(request.head.authority ?? "127.0.0.1")/repos/\(context.parameters.get("owner")!)/\(context.parameters.get("repo")!)/releases/\(id)/assets{?name,label}"
            let object: [String: Any] = [
                "id": Int(id)!, "tag_name": release["tag"]!,
                "html_url": "https://github.example/releases/\(release["tag"]!)",
                "upload_url": upload, "assets": assets,
            ]
            return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        router.get("/repos/:owner/:repo/releases/tags/:tag") { request, context -> Response in
            guard request.headers[.authorization] == "Bearer \(Self.githubToken)" else {
                return text(.unauthorized, #"{"message":"Bad credentials"}"#)
            }
            let key =
                "\(context.parameters.get("owner")!)/\(context.parameters.get("repo")!)#\(context.parameters.get("tag")!)"
            guard let release = await state.releases[key] else { return text(.notFound, #"{"message":"Not Found"}"#) }
            return text(.ok, try await releaseJSON(release, request, context))
        }
        router.post("/repos/:owner/:repo/releases/:id/assets") { request, context -> Response in
            guard request.headers[.authorization] == "Bearer \(Self.githubToken)" else { return text(.unauthorized) }
            guard request.headers[.contentType] == "application/octet-stream",
                let name = request.uri.queryParameters.get("name")
            else {
                return text(.badRequest)
            }
            let release = context.parameters.get("id")!
            if await state.assets.values.contains(where: { $0["release"] == release && $0["name"] == name }) {
                return text(
                    .unprocessableContent, #"{"message":"Validation Failed","errors":[{"code":"already_exists"}]}"#)
            }
            var request = request
            let bytes = Data(buffer: try await request.collectBody(upTo: 1 << 30))
            let id = await state.addAsset(
                release: release, name: name,
                sha256: SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined())
            await state.record("github POST asset \(name)")
            return text(.created, #"{"id":\#(id),"name":"\#(name)"}"#)
        }
        router.delete("/repos/:owner/:repo/releases/assets/:asset") { request, context -> Response in
            guard request.headers[.authorization] == "Bearer \(Self.githubToken)" else { return text(.unauthorized) }
            guard let id = context.parameters.get("asset").flatMap(Int.init), await state.removeAsset(id) else {
                return text(.notFound)
            }
            await state.record("github DELETE asset \(id)")
            return Response(status: .noContent)
        }
        router.post("/repos/:owner/:repo/releases") { request, context -> Response in
            guard request.headers[.authorization] == "Bearer \(Self.githubToken)" else {
                return text(.unauthorized, #"{"message":"Bad credentials"}"#)
            }
            var request = request
            let body =
                try JSONSerialization.jsonObject(with: Data(buffer: try await request.collectBody(upTo: 1 << 20)))
                as? [String: Any] ?? [:]
            let tag = body["tag_name"] as? String ?? ""
            let key = "\(context.parameters.get("owner")!)/\(context.parameters.get("repo")!)#\(tag)"
            if await state.releases[key] != nil {
                return text(
                    .unprocessableContent, #"{"message":"Validation Failed","errors":[{"code":"already_exists"}]}"#)
            }
            // A queued 429 refuses before anything is made; any other queued fault answers after the release was
            // made, so the client cannot tell that it was.
            let fault = await gitHubFault()
            if let fault, fault.status == .tooManyRequests { return fault }
            let id = 7000 + (await state.releases.count)
            await state.setRelease(
                key,
                [
                    "id": "\(id)", "tag": tag, "name": body["name"] as? String ?? "",
                    "body": body["body"] as? String ?? "",
                ])
            await state.record("github POST release \(tag)")
            if let fault { return fault }
            return text(.created, try await releaseJSON(["id": "\(id)", "tag": tag], request, context))
        }
        router.patch("/repos/:owner/:repo/releases/:id") { request, context -> Response in
            guard request.headers[.authorization] == "Bearer \(Self.githubToken)" else { return text(.unauthorized) }
            var request = request
            let body =
                try JSONSerialization.jsonObject(with: Data(buffer: try await request.collectBody(upTo: 1 << 20)))
                as? [String: Any] ?? [:]
            let prefix = "\(context.parameters.get("owner")!)/\(context.parameters.get("repo")!)#"
            guard
                let (key, release) = await state.releases.first(where: {
                    $0.key.hasPrefix(prefix) && $0.value["id"] == context.parameters.get("id")
                })
            else {
                return text(.notFound)
            }
            var updated = release
            updated["name"] = body["name"] as? String ?? release["name"]
            updated["body"] = body["body"] as? String ?? release["body"]
            await state.setRelease(key, updated)
            await state.record("github PATCH release \(release["tag"]!)")
            return text(.ok, try await releaseJSON(release, request, context))
        }
        // GitLab releases
        @Sendable func gitlabAuthorized(_ request: Request) -> Bool {
            request.headers[HTTPField.Name("JOB-TOKEN")!] == "job-token"
                || request.headers[HTTPField.Name("PRIVATE-TOKEN")!] == Self.gitlabToken
        }
        router.get("/api/v4/projects/:project/releases/:tag") { request, context -> Response in
            guard gitlabAuthorized(request) else { return text(.unauthorized) }
            let key = "\(context.parameters.get("project")!.removingPercentEncoding!)#\(context.parameters.get("tag")!)"
            return await state.releases[key] != nil ? text(.ok, "{}") : text(.notFound, #"{"message":"404 Not Found"}"#)
        }
        router.post("/api/v4/projects/:project/releases") { request, context -> Response in
            guard gitlabAuthorized(request) else { return text(.unauthorized) }
            var request = request
            let body =
                try JSONSerialization.jsonObject(with: Data(buffer: try await request.collectBody(upTo: 1 << 20)))
                as? [String: String] ?? [:]
            let key = "\(context.parameters.get("project")!.removingPercentEncoding!)#\(body["tag_name"] ?? "")"
            if await state.releases[key] != nil { return text(.conflict, #"{"message":"Release already exists"}"#) }
            await state.setRelease(key, ["name": body["name"] ?? "", "body": body["description"] ?? ""])
            await state.record("gitlab POST release \(body["tag_name"] ?? "")")
            return text(.created, "{}")
        }
        router.put("/api/v4/projects/:project/releases/:tag") { request, context -> Response in
            guard gitlabAuthorized(request) else { return text(.unauthorized) }
            var request = request
            let body =
                try JSONSerialization.jsonObject(with: Data(buffer: try await request.collectBody(upTo: 1 << 20)))
                as? [String: String] ?? [:]
            let key = "\(context.parameters.get("project")!.removingPercentEncoding!)#\(context.parameters.get("tag")!)"
            guard await state.releases[key] != nil else { return text(.notFound) }
            await state.setRelease(key, ["name": body["name"] ?? "", "body": body["description"] ?? ""])
            await state.record("gitlab PUT release \(context.parameters.get("tag")!)")
            return text(.ok, "{}")
        }
        Self.addListingRoutes(router, state: state)
        server = try await TestServer(router: router)
    }
}
