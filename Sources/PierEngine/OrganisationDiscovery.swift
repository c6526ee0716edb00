import PierHostedAPIs
import PierModel

/// `organisation.discover`: at the start of an organisation run, the repositories under the primary prefix whose
/// name matches the pattern, listed where the primary's registry lists them: the GitHub packages API for ghcr.io,
/// the GitLab API for a GitLab registry, ECR's DescribeRepositories for ECR, else `/v2/_catalog`
/// (`organisation.discover_from` forces one). Every listed name is checked as a repository path before use; a
/// bad one is skipped with a warning. A listing that fails stops the run before any repository is touched.
enum OrganisationDiscovery {
    /// The source discovery reads for `organisation`: `discover_from`, else from the primary registry's API kind.
    static func source(for organisation: OrganisationSettings, registry: String, settings: Settings)
        -> RepositoryDiscoverySource
    {
        organisation.discoverFrom
            ?? RepositoryDiscoverySource(managedBy: RegistryAPISelection.kind(for: registry, settings: settings))
    }

    /// `organisation` with the discovered repositories added (unchanged without `discover`).
    static func discover(_ organisation: OrganisationSettings, session: Session) async throws(PierError)
        -> OrganisationSettings
    {
        guard organisation.discover != nil, let registry = organisation.discoveryRegistry else { return organisation }
        let source = source(for: organisation, registry: registry, settings: session.settings)
        let namespace = organisation.discoveryNamespace
        let paths: [String]
        do {
            paths = try await list(source, registry: registry, namespace: namespace, session: session)
        } catch {
            var failure = error
            let step = failure.operation == Self.operation ? "" : " (\(failure.operation))"
            failure.operation = "\(Self.operation) through \(source.label)\(step)"
            if failure.hint == nil { failure.hint = source.credentialHint }
            throw failure
        }
        let (discovered, skipped) = try organisation.adding(discovered: paths)
        for path in skipped.prefix(Self.maximumWarnings) {
            session.logger.warning(
                "warning: discover: skipped \"\(TerminalText.escaped(String(path.prefix(Self.quotedNameLimit))))\" from \(source.label): not a repository name on \(registry)"
            )
        }
        if skipped.count > Self.maximumWarnings {
            session.logger.warning("warning: discover: skipped \(skipped.count - Self.maximumWarnings) more bad names")
        }
        session.logger.info(
            "discover: \(discovered.repositories.count - organisation.repositories.count) repositories from \(source.label) (\(paths.count) listed under \(namespace.isEmpty ? registry : registry + "/" + namespace))"
        )
        return discovered
    }

    /// The operation discovery's errors name.
    static let operation = "discover repositories"
    /// Bad names warned about one by one; the rest are counted.
    static let maximumWarnings = 20
    /// Characters of a bad name quoted in its warning.
    static let quotedNameLimit = 100

    static func list(
        _ source: RepositoryDiscoverySource, registry: String, namespace: String, session: Session
    ) async throws(PierError) -> [String] {
        guard let kind = source.apiKind else { return try await session.store.client(for: registry).catalog() }
        guard
            case .native(let api) = try RegistryAPISelection.choose(
                for: registry, operation: Self.operation, session: session, kind: kind),
            let lister = api as? any RepositoryListingAPI
        else {
            throw PierError(
                .unsupported, operation: Self.operation, message: "\(source.label) cannot list repositories",
                registry: registry)
        }
        return try await lister.listRepositories(registry: registry, under: namespace)
    }
}
