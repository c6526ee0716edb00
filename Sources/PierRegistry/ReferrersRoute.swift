/// Whether a registry has been seen to lack the referrers API route: a 404 or 405 for
/// `GET /v2/<name>/referrers/<digest>` with no distribution error in its body (docker-registry 2.8 answers
/// `404 page not found` in plain text) is the route missing for every repository, so the run asks no more and uses
/// the referrers tag schema. A 404 carrying an error code (`NAME_UNKNOWN`) says something of one repository only.
actor ReferrersRoute {
    private(set) var isMissing = false

    func markMissing() { isMissing = true }
}
