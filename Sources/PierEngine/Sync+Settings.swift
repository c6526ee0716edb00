import PierModel

extension Sync {
    /// A sync configured from the session's settings, the one place `pier sync` and `pier sync --org` build theirs:
    /// the verification key (`--verify-key`, pier.yml `signing.verify_key`), the referrer selection
    /// (`--no-referrers`, `--referrers-type`, pier.yml `referrers:`), the run's time and logger.
    public init(session: Session, onConflict: ConflictPolicy, dryRun: Bool) throws(PierError) {
        self.init(store: session.store)
        referrers = session.settings.referrers
        verificationKey = try session.settings.verificationKey(flag: "--verify-key")
        (self.onConflict, self.dryRun, logger, timestamp) = (
            onConflict, dryRun, session.logger, session.settings.startedAt
        )
    }

    /// Creates the missing ECR backups (`--create-repository`; never in a dry run), then syncs.
    public func sync(
        from source: ImageReference, to targets: [ImageReference], tags only: String?, semver range: SemverRange?,
        session: Session
    ) async throws(PierError) -> [Action] {
        if !dryRun { _ = try await ECRRepositoryCreation.createMissing(targets, session: session) }
        return try await sync(from: source, to: targets, tags: only, semver: range)
    }
}
