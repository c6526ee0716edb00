import Foundation
import NIOHTTP1
import PierHTTP
import PierModel

/// GitHub Releases (REST API 2022-11-28): find the release for the tag, then update it, or create it.
/// Idempotent: a rerun updates, never duplicates.
public struct GitHubReleasesAPI: Sendable {
    let api: APIClient
    let base: String
    let token: String
    /// `owner/repo`.
    let repository: String

    public init(transport: HTTPTransport, token: String, repository: String, base: String = "https://api.github.com") {
        api = APIClient(transport: transport, service: "GitHub API")
        self.token = token
        self.repository = repository
        self.base = base
    }

    var headers: HTTPHeaders { APIClient.gitHubHeaders(token: token) }

    /// The largest asset pier uploads: GitHub accepts up to 2 GiB per asset, and pier reads each one into memory.
    public static let maximumAssetSize = 512 << 20

    /// Creates or updates the release for `tag`, then uploads `assets` (file paths), replacing same-named ones.
    public func publish(tag: String, name: String, body: String, prerelease: Bool, assets: [String] = [])
        async throws(PierError)
        -> ReleaseResult
    {
        let files = try assets.map { (path) throws(PierError) in try Self.readAsset(path) }
        let existing: APIClient.Answer?
        do {
            existing = try await api.call(
                .GET, "\(base)/repos/\(repository)/releases/tags/\(APIClient.escape(tag))", headers: headers,
                operation: "find GitHub release \(tag)")
        } catch {
            guard error.kind == .notFound else { throw error }
            existing = nil
        }
        var result: ReleaseResult
        let release: [String: Any]
        if let existing, let id = (existing.json as? [String: Any])?["id"] as? Int {
            let answer = try await api.call(
                .PATCH, "\(base)/repos/\(repository)/releases/\(id)", headers: headers,
                json: ["name": name, "body": body, "prerelease": prerelease], operation: "update GitHub release \(tag)")
            release = answer.json as? [String: Any] ?? [:]
            result = ReleaseResult(action: .updated, url: release["html_url"] as? String)
        } else {
            let answer = try await api.call(
                .POST, "\(base)/repos/\(repository)/releases", headers: headers,
                json: ["tag_name": tag, "name": name, "body": body, "prerelease": prerelease, "draft": false],
                operation: "create GitHub release \(tag)", repeatability: .createsOnce)
            release = answer.json as? [String: Any] ?? [:]
            result = ReleaseResult(action: .created, url: release["html_url"] as? String)
        }
        guard !files.isEmpty else { return result }
        let upload = try uploadURL(release, tag: tag)
        let present = (release["assets"] as? [[String: Any]] ?? []).compactMap { asset -> (String, Int)? in
            guard let name = asset["name"] as? String, let id = asset["id"] as? Int else { return nil }
            return (name, id)
        }
        for file in files {
            for (assetName, id) in present where assetName == file.name {
                _ = try await api.call(
                    .DELETE, "\(base)/repos/\(repository)/releases/assets/\(id)", headers: headers,
                    operation: "replace GitHub release asset \(file.name)")
            }
            var uploadHeaders = headers
            uploadHeaders.replaceOrAdd(name: "Content-Type", value: "application/octet-stream")
            _ = try await api.call(
                .POST, "\(upload)?name=\(APIClient.escape(file.name))", headers: uploadHeaders, body: file.bytes,
                operation: "upload GitHub release asset \(file.name)", repeatability: .createsOnce)
            result.assets.append(file.name)
        }
        return result
    }

    /// The release's `upload_url` without its `{?name,label}` template. The token goes there only when the host is
    /// the API's own or GitHub's upload host beside it (`api.github.com` → `uploads.github.com`; Enterprise serves
    /// uploads from the API host), over https unless the API itself is plain http.
    func uploadURL(_ release: [String: Any], tag: String) throws(PierError) -> String {
        let template = release["upload_url"] as? String ?? ""
        let url = String(template.prefix { $0 != "{" })
        let api = URLComponents(string: base)
        guard let upload = URLComponents(string: url), let host = upload.host?.lowercased(),
            let apiHost = api?.host?.lowercased(),
            (host == apiHost && upload.port == api?.port)
                || (apiHost.hasPrefix("api.") && host == "uploads." + apiHost.dropFirst(4)),
            upload.scheme == "https" || (upload.scheme == "http" && api?.scheme == "http")
        else {
            throw PierError(
                .invalidInput, operation: "upload GitHub release assets for \(tag)",
                message: "the release's upload URL \(url) is not on the API's host", registry: api?.host)
        }
        return url
    }

    static func readAsset(_ path: String) throws(PierError) -> (name: String, bytes: [UInt8]) {
        let name = (path as NSString).lastPathComponent
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        guard let size, let data = FileManager.default.contents(atPath: path) else {
            throw PierError(.usage, operation: "read release asset", message: "cannot read \(path)")
        }
        guard size <= maximumAssetSize else {
            throw PierError(
                .usage, operation: "read release asset",
                message: "\(path) is \(size) bytes; pier uploads assets up to \(maximumAssetSize)")
        }
        return (name, Array(data))
    }
}
