import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import PierHTTP
import PierModel

extension RegistryClient {
    /// Deadline for the response head of a streamed blob upload or download: a multi-GiB body is sent before the
    /// answer comes. A stall is bounded by the idle timeout (`--timeout`), not by this.
    static let streamedExchangeDeadline: Duration = .seconds(6 * 3600)

    static func pullScope(_ repository: String) -> String { "repository:\(repository):pull" }
    static func pushScope(_ repository: String) -> String { "repository:\(repository):pull,push" }

    /// `HEAD /v2/<name>/blobs/<digest>`: the blob's size when present, nil when not.
    public func blobSize(repository: String, digest: Digest) async throws(PierError) -> Int64? {
        let response = try await send(
            Request(
                method: .HEAD, target: "/v2/\(repository)/blobs/\(digest)", scopes: [Self.pullScope(repository)],
                operation: "check blob \(digest.short)", repository: repository, reference: digest.description,
                accept: [200, 404], followRedirects: true))
        guard response.status.code == 200 else { return nil }
        return response.headers.first(name: "Content-Length").flatMap { Int64($0) } ?? -1
    }

    /// The answer to a cross-repository mount request.
    public enum MountResult: Sendable {
        /// 201: the blob is now in the repository.
        case mounted
        /// 202: the registry opened an upload session instead (spec §Mounting a blob from another repository).
        case uploadSession(String)
    }

    /// `POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<other>`: links a blob another repository of the same
    /// registry already has, without sending bytes.
    public func mountBlob(repository: String, digest: Digest, from source: String) async throws(PierError)
        -> MountResult
    {
        let response = try await send(
            Request(
                method: .POST, target: "/v2/\(repository)/blobs/uploads/?mount=\(digest)&from=\(source)",
                headers: ["Content-Length": "0"], scopes: [Self.pushScope(repository), Self.pullScope(source)],
                operation: "mount blob \(digest.short)", repository: repository, reference: digest.description,
                accept: [201, 202]))
        await drain(response)
        if response.status.code == 201 { return .mounted }
        guard let location = response.headers.first(name: "Location") else {
            throw PierError(
                .other, operation: "mount blob \(digest.short)", message: "202 without a Location header",
                registry: registry,
                repository: repository)
        }
        return .uploadSession(location)
    }

    /// Uploads a blob from a file: monolithic POST then PUT, streamed; if the registry refuses the single PUT,
    /// chunked PATCHes honouring `OCI-Chunk-Min-Length`. A failed attempt is retried with a fresh upload session
    /// (restarting a session from byte 0 gives ECR 416 BLOB_UPLOAD_INVALID, containerization#790). With `sharing`,
    /// the first monolithic attempt shares its reads of the file with concurrent uploads of it to other registries.
    public func uploadBlob(
        repository: String, digest: Digest, size: Int64, file: String, session: String? = nil,
        sharing: SharedFileRead.Member? = nil, progress: (@Sendable (Int) -> Void)? = nil
    ) async throws(PierError) {
        defer { sharing?.leave() }
        var offered = session
        var chunked = false
        func attempt() async throws(PierError) {
            let (location, minimumChunk) = try await openSession(
                repository: repository, digest: digest, offered: offered)
            offered = nil
            if chunked {
                sharing?.leave()
                try await uploadChunked(
                    repository: repository, digest: digest, size: size, file: file, location: location,
                    minimumChunk: minimumChunk, progress: progress)
            } else {
                try await uploadMonolithic(
                    repository: repository, digest: digest, size: size, file: file, location: location,
                    sharing: sharing,
                    progress: progress)
            }
        }
        try await options.retry.run { _ throws(PierError) in
            do throws(PierError) { try await attempt() } catch {
                // A registry that will not take one large PUT (413, 416, or a refusal of the upload) gets chunks, at
                // once and with a fresh session.
                guard !chunked, let status = error.status, Self.chunkedFallbackStatuses.contains(status),
                    error.kind != .verification
                else { throw error }
                chunked = true
                logger.debug("falling back to chunked upload", metadata: ["blob": "\(digest.short)"])
                try await attempt()
            }
        }
    }

    /// Answers to a monolithic PUT after which pier uploads in chunks: 413 Content Too Large, 416 Range Not
    /// Satisfiable, and 400 (registries that refuse a single PUT of a large blob as a bad upload).
    static let chunkedFallbackStatuses: Set<Int> = [400, 413, 416]

    /// `POST /v2/<name>/blobs/uploads/` → the session URL and the registry's minimum chunk length.
    func openSession(repository: String, digest: Digest, offered: String?) async throws(PierError) -> (String, Int64) {
        if let offered { return (offered, 0) }
        let response = try await send(
            Request(
                method: .POST, target: "/v2/\(repository)/blobs/uploads/", headers: ["Content-Length": "0"],
                scopes: [Self.pushScope(repository)], operation: "push blob \(digest.short)", repository: repository,
                reference: digest.description, accept: [202]))
        await drain(response)
        guard let location = response.headers.first(name: "Location") else {
            throw PierError(
                .other, operation: "push blob \(digest.short)", message: "upload session answer has no Location",
                registry: registry, repository: repository)
        }
        let minimum = response.headers.first(name: "OCI-Chunk-Min-Length").flatMap { Int64($0) } ?? 0
        return (location, minimum)
    }

    private func uploadMonolithic(
        repository: String, digest: Digest, size: Int64, file: String, location: String,
        sharing: SharedFileRead.Member?,
        progress: (@Sendable (Int) -> Void)?
    ) async throws(PierError) {
        try await putWholeBlob(
            { FileByteStream(path: file, length: size, sharing: sharing, progress: progress) }, size: size,
            location: location, repository: repository, digest: digest)
    }

    /// Ends an upload session with the whole blob as the body of one PUT (`?digest=`), and checks the digest the
    /// registry answers with.
    private func putWholeBlob<Body: AsyncSequence & Sendable>(
        _ body: @escaping @Sendable () throws(PierError) -> Body, size: Int64, location: String, repository: String,
        digest: Digest
    ) async throws(PierError) where Body.Element == ByteBuffer {
        let endpoint = try await endpoint()
        let url = URLText.appending(
            query: "digest=\(digest)", to: URLText.resolve(location, against: endpoint.baseURL + "/v2/"))
        let response = try await send(
            streaming(
                body, length: size,
                in: Request(
                    method: .PUT, target: url,
                    headers: ["Content-Type": "application/octet-stream", "Content-Length": "\(size)"],
                    scopes: [Self.pushScope(repository)], operation: "push blob \(digest.short)",
                    repository: repository, reference: digest.description, accept: [201], retryable: false,
                    timeout: Self.streamedExchangeDeadline)))
        try await checkDigestHeader(
            response, expected: digest, repository: repository, operation: "push blob \(digest.short)")
    }

    /// Bytes per PATCH when the registry names no larger `OCI-Chunk-Min-Length`: a GiB layer is 128 requests, and
    /// each chunk is streamed from the file, so its size costs no memory.
    static let chunkSize: Int64 = 8 << 20

    private func uploadChunked(
        repository: String, digest: Digest, size: Int64, file: String, location start: String, minimumChunk: Int64,
        progress: (@Sendable (Int) -> Void)?
    ) async throws(PierError) {
        let endpoint = try await endpoint()
        var location = URLText.resolve(start, against: endpoint.baseURL + "/v2/")
        let chunk = max(minimumChunk, Self.chunkSize)
        var offset: Int64 = 0
        while offset < size {
            let length = min(chunk, size - offset)
            let from = offset
            let response = try await send(
                streaming(
                    { FileByteStream(path: file, offset: from, length: length, progress: progress) }, length: length,
                    in: Request(
                        method: .PATCH, target: location,
                        headers: [
                            "Content-Type": "application/octet-stream", "Content-Length": "\(length)",
                            "Content-Range": "\(from)-\(from + length - 1)",
                        ],
                        scopes: [Self.pushScope(repository)],
                        operation: "push blob \(digest.short) (chunk at \(from))", repository: repository,
                        reference: digest.description, accept: [202], retryable: false,
                        timeout: Self.streamedExchangeDeadline)))
            await drain(response)
            if let next = response.headers.first(name: "Location") {
                location = URLText.resolve(next, against: location)
            }
            offset += length
        }
        let response = try await send(
            Request(
                method: .PUT, target: URLText.appending(query: "digest=\(digest)", to: location),
                headers: ["Content-Length": "0"],
                scopes: [Self.pushScope(repository)], operation: "push blob \(digest.short)", repository: repository,
                reference: digest.description, accept: [201], retryable: false))
        try await checkDigestHeader(
            response, expected: digest, repository: repository, operation: "push blob \(digest.short)")
    }

    /// `request` with a streamed body (`StreamedUpload`), made anew for each exchange `send` makes of it.
    func streaming<Body: AsyncSequence & Sendable>(
        _ body: @escaping @Sendable () throws(PierError) -> Body, length: Int64, in request: Request
    ) -> Request where Body.Element == ByteBuffer {
        var request = request
        let (bufferedDeadline, limit) = (options.bufferedExchangeDeadline, Self.statusBodyLimit)
        request.exchange = { prepared, client, deadline in
            try await StreamedUpload(body: body(), length: length).exchange(
                prepared, client: client, headDeadline: deadline, bufferedDeadline: bufferedDeadline, limit: limit)
        }
        return request
    }

    /// Compares `Docker-Content-Digest`, when the registry sends one, with what pier sent.
    func checkDigestHeader(
        _ response: HTTPClientResponse, expected: Digest, repository: String, operation: String
    ) async throws(PierError) {
        await drain(response)
        guard let header = response.headers.first(name: "Docker-Content-Digest"), !header.isEmpty else { return }
        guard let answered = try? Digest(header) else { return }
        if answered != expected {
            throw PierError(
                .verification, operation: operation, message: "the registry stored \(answered), not \(expected)",
                registry: registry, repository: repository, reference: expected.description)
        }
    }

    /// `GET /v2/<name>/blobs/<digest>` into a file, hashing on the way; the file is removed if the bytes are wrong.
    public func downloadBlob(
        repository: String, digest: Digest, size: Int64?, to path: String, progress: (@Sendable (Int) -> Void)? = nil
    ) async throws(PierError) {
        // Statuses were retried by `send` already; a whole new attempt is for a download cut off or corrupted.
        try await options.retry.run(statuses: false) { _ throws(PierError) in
            do throws(PierError) {
                try await downloadOnce(repository: repository, digest: digest, size: size, to: path, progress: progress)
            } catch {
                unlink(path)
                throw error
            }
        }
    }

    private func downloadOnce(
        repository: String, digest: Digest, size: Int64?, to path: String, progress: (@Sendable (Int) -> Void)?
    ) async throws(PierError) {
        let operation = "pull blob \(digest.short)"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw PierError(
                .other, operation: operation, message: "cannot create \(path)", cause: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        let download = BlobDownload(fd: fd, path: path, size: size, progress: progress)
        let (bufferedDeadline, limit) = (options.bufferedExchangeDeadline, Self.statusBodyLimit)
        var request = Request(
            method: .GET, target: "/v2/\(repository)/blobs/\(digest)", scopes: [Self.pullScope(repository)],
            operation: operation, repository: repository, reference: digest.description, accept: [200],
            followRedirects: true, timeout: Self.streamedExchangeDeadline)
        request.exchange = { request, client, deadline in
            try await download.exchange(
                request, client: client, headDeadline: deadline, bufferedDeadline: bufferedDeadline, limit: limit)
        }
        let received: (digest: Digest, size: Int64)
        do {
            _ = try await send(request)
            received = try await download.finish()
        } catch {
            await download.abandon()
            if let error = error as? PierError {
                throw error.located(registry: registry, repository: repository, reference: digest.description)
            }
            throw networkError(
                error,
                request: Request(
                    method: .GET, target: "", scopes: [], operation: operation, repository: repository,
                    reference: digest.description, accept: []))
        }
        if let size, size >= 0, received.size != size {
            throw PierError(
                .verification, operation: operation, message: "got \(received.size) bytes, the descriptor says \(size)",
                registry: registry, repository: repository, reference: digest.description)
        }
        let actual = received.digest
        if actual != digest {
            throw PierError(
                .verification, operation: operation, message: "the bytes hash to \(actual)", registry: registry,
                repository: repository, reference: digest.description)
        }
    }
}

extension RegistryClient {
    /// The default limit of `blobBytes`: an image config is a few KiB; the limit matches the manifest limit
    /// (`ManifestBlob.maximumSize`), far above any config a builder writes.
    public static let smallBlobLimit = 4 << 20

    /// A small blob (an image config) in memory, checked against its digest. Refuses anything over `limit`.
    public func blobBytes(repository: String, digest: Digest, limit: Int = smallBlobLimit) async throws(PierError)
        -> [UInt8]
    {
        let operation = "pull blob \(digest.short)"
        let response = try await send(
            Request(
                method: .GET, target: "/v2/\(repository)/blobs/\(digest)", scopes: [Self.pullScope(repository)],
                operation: operation, repository: repository, reference: digest.description, accept: [200],
                followRedirects: true))
        let body: [UInt8]
        do { body = Array(buffer: try await buffered(response, upTo: limit)) } catch {
            throw bodyError(error, what: "blob", limit: limit, operation: operation, repository: repository)
        }
        if Digest.sha256(of: body) != digest {
            throw PierError(
                .verification, operation: operation, message: "the bytes hash to \(Digest.sha256(of: body))",
                registry: registry, repository: repository, reference: digest.description)
        }
        return body
    }
}

extension RegistryClient {
    /// Copies a blob from another registry by piping its GET body straight into this registry's PUT, so the bytes
    /// cross the machine once, with no spool file. The destination checks the digest (`PUT ?digest=`), and a
    /// failed attempt starts over with a fresh GET and a fresh upload session. Callers fall back to spooling when
    /// this registry needs chunked uploads.
    public func copyBlob(
        from source: RegistryClient, sourceRepository: String, to repository: String, digest: Digest, size: Int64,
        session: String? = nil
    ) async throws(PierError) {
        var offered = session
        try await options.retry.run { _ throws(PierError) in
            let (location, _) = try await openSession(repository: repository, digest: digest, offered: offered)
            offered = nil
            let download = try await source.send(
                Request(
                    method: .GET, target: "/v2/\(sourceRepository)/blobs/\(digest)",
                    scopes: [Self.pullScope(sourceRepository)],
                    operation: "pull blob \(digest.short)", repository: sourceRepository, reference: digest.description,
                    accept: [200], followRedirects: true, timeout: Self.streamedExchangeDeadline))
            if let length = download.headers.first(name: "Content-Length").flatMap(Int64.init), length != size {
                throw PierError(
                    .verification, operation: "pull blob \(digest.short)",
                    message: "the source sends \(length) bytes, the descriptor says \(size)", registry: source.registry,
                    repository: sourceRepository)
            }
            let body = PooledByteStream(download.body)
            let handedOut = NIOLockedValueBox(false)
            try await putWholeBlob(
                { () throws(PierError) in
                    // The download's body can be read once: a second exchange (after a 401) starts the copy over
                    // with a fresh GET.
                    guard
                        handedOut.withLockedValue({ handed in
                            defer { handed = true }
                            return !handed
                        })
                    else {
                        throw PierError(
                            .network, operation: "push blob \(digest.short)",
                            message: "the registry asked for credentials again during the copy",
                            registry: self.registry, repository: repository)
                    }
                    return body
                }, size: size, location: location, repository: repository, digest: digest)
        }
    }
}
