import PierModel

/// `pier tags list` and `pier tags plan`.
public enum TagListing {
    /// Every tag of a registry repository or a local OCI layout.
    public static func tags(of location: ImageLocation, store: ImageStore) async throws(PierError) -> [String] {
        switch location {
        case .registry(let reference):
            return try await store.client(for: reference.registry).tags(repository: reference.repository)
        case .ociLayout(let path, _):
            return try OCILayoutTags.tags(path)
        default:
            throw PierError(
                .usage, operation: "list tags", message: "tags lists a registry repository or an oci: layout")
        }
    }

    /// The tags publish would write: the run's rules applied to its context, with the targets' existing tags
    /// deciding whether latest, 1 and 1.2 move (a repository that does not exist yet has none). As in publish, a
    /// target whose tags cannot be read is left out of the plan with a warning (publish would fail that registry
    /// and go on); when none can be read, the first failure is the plan's.
    public static func plan(session: Session) async throws(PierError) -> [PlannedTag] {
        let release = session.settings.release
        var existing: [String] = []
        var failures: [PierError] = []
        for target in release.targets {
            do {
                existing += try await session.store.client(for: target.registry).tags(repository: target.repository)
            } catch  where error.kind == .notFound {
            } catch {
                session.logger.warning(
                    "\(target.repositoryName): its tags are left out of the plan: \(error.description)")
                failures.append(error)
            }
        }
        if let first = failures.first, failures.count == release.targets.count { throw first }
        return try TagPlanner.plan(context: release.context, rules: release.rules, existingTags: existing)
    }
}
