import Foundation
import Logging
import PierLayout
import PierModel
import PierRegistry

/// Opens sources and destinations for image locations, sharing one registry pool.
public struct ImageStore: Sendable {
    public let pool: RegistryPool

    public init(pool: RegistryPool) { self.pool = pool }

    public func client(for registry: String) async -> RegistryClient { await pool.client(for: registry) }

    public func openSource(_ location: ImageLocation) async throws(PierError) -> any ImageSource {
        switch location {
        case .registry(let reference):
            return try RegistryImageSource(reference: reference, client: await pool.client(for: reference.registry))
        case .ociLayout(let path, let tag):
            return LayoutImageSource(layout: OCILayout(root: path), name: location.description, tag: tag)
        case .ociArchive(let path, let tag):
            let scratch = try ScratchDirectory(prefix: "pier-oci-archive")
            do {
                let layout = try LocalImage.openOCIArchive(path, scratch: scratch.path)
                return LayoutImageSource(layout: layout, name: location.description, tag: tag, scratch: scratch)
            } catch {
                scratch.remove()
                throw error
            }
        case .dockerArchive(let path, let reference):
            let scratch = try ScratchDirectory(prefix: "pier-docker-archive")
            do {
                let (layout, tag) = try LocalImage.openDockerArchive(path, reference: reference, scratch: scratch.path)
                return LayoutImageSource(layout: layout, name: location.description, tag: tag, scratch: scratch)
            } catch {
                scratch.remove()
                throw error
            }
        }
    }

    public func openDestination(_ location: ImageLocation) async throws(PierError) -> any ImageDestination {
        switch location {
        case .registry(let reference):
            return RegistryImageDestination(reference: reference, client: await pool.client(for: reference.registry))
        case .ociLayout(let path, let tag):
            return try LayoutImageDestination(directory: path, tag: tag, name: "oci:\(path)")
        case .ociArchive(let path, let tag):
            return try LayoutImageDestination(archive: path, tag: tag, name: "oci-archive:\(path)")
        case .dockerArchive:
            throw PierError(
                .usage, operation: "open destination", message: "docker-archive is a source only",
                hint: "write oci-archive:FILE or oci:DIR instead")
        }
    }
}

/// Tags of a local OCI layout, for `pier tags oci:DIR`.
public enum OCILayoutTags {
    public static func tags(_ path: String) throws(PierError) -> [String] { try OCILayout(root: path).tags() }
}
