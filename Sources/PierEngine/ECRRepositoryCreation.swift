import Foundation
import PierHostedAPIs
import PierModel

/// Creates the ECR repositories a write needs, when the registry's settings say so (pier.yml `create: true`,
/// `--create-repository`): ECR, unlike GHCR and Docker Hub, does not create a repository on push (moby
/// a12ab28), and answers the push NAME_UNKNOWN. Never silent: each repository created is logged and returned for
/// the report. Other registries create on push and are left alone.
public enum ECRRepositoryCreation {
    /// The repositories created (`host/name`); those that already existed are left exactly as they are.
    public static func createMissing(_ targets: [ImageReference], session: Session) async throws(PierError)
        -> [String]
    {
        var created: [String] = []
        for target in targets {
            let settings = session.settings.registry(target.registry)
            guard settings.createRepository else { continue }
            guard
                case .native(let api) = try RegistryAPISelection.choose(
                    for: target.registry, operation: "create repository", session: session),
                let ecr = api as? ECRAPI
            else {
                session.logger.debug("\(target.registry) is not ECR; it creates repositories on push")
                continue
            }
            let ecrSettings = settings.ecr
            guard try await ecr.createRepository(target.repository, settings: ecrSettings) else { continue }
            let name = "\(target.registry)/\(target.repository)"
            session.logger.info(
                "created ECR repository \(name) (scan on push \(ecrSettings.scanOnPush ? "on" : "off"), tags \(ecrSettings.tagMutability.rawValue), encryption \(ecrSettings.encryption.rawValue))"
            )
            created.append(name)
        }
        return created
    }

    /// The hint for a push ECR refused with NAME_UNKNOWN.
    public static let missingRepositoryHint =
        "ECR does not create repositories on push: set create: true for this registry in pier.yml, or pass --create-repository"
}
