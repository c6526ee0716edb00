import Logging
import PierModel
import PierRegistry

/// One run of pier: its settings, the registry pool they configure, and the image store over that pool.
/// `Session.run` shuts the pool's HTTP clients down however the body ends.
public struct Session: Sendable {
    public let settings: Settings
    public let store: ImageStore
    public let logger: Logger

    public var pool: RegistryPool { store.pool }

    /// Runs `body` with a session over `settings`, shutting the HTTP clients down afterwards.
    public static func run<T: Sendable>(
        _ settings: Settings, logger: Logger, userAgent: String, _ body: (Session) async throws -> T
    ) async throws -> T {
        let pool = try RegistryPool(options: settings.registryOptions(logger: logger, userAgent: userAgent))
        let session = Session(settings: settings, store: ImageStore(pool: pool), logger: logger)
        do {
            let result = try await body(session)
            await pool.shutdown()
            return result
        } catch {
            await pool.shutdown()
            throw error
        }
    }
}
