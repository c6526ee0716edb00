import ArgumentParser
import Foundation
import PierModel
import PierRegistry

struct LogoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout", abstract: "Remove stored credentials for a registry from docker's config.json.")

    @Argument(help: "Registry host.") var host: String

    func run() async throws {
        do {
            let removed = try DockerConfig.standard(environment: ProcessInfo.processInfo.environment).erase(host: host)
            Terminal.shared.print(removed ? "Removed login credentials for \(host)" : "Not logged in to \(host)")
        } catch {
            throw ErrorRendering.exit(for: error)
        }
    }
}
