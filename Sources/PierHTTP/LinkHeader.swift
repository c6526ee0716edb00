/// The `Link` header (RFC 8288) as registries (distribution-spec §Listing Tags) and the GitHub, GitLab and Harbor
/// APIs paginate with.
package enum LinkHeader {
    /// The URL in `Link: </v2/…?last=x&n=1000>; rel="next"`, as written.
    package static func next(in header: String) -> String? {
        for part in header.split(separator: ",") where part.contains("rel=\"next\"") || part.contains("rel=next") {
            guard let open = part.firstIndex(of: "<"), let close = part.firstIndex(of: ">"), open < close else {
                continue
            }
            return String(part[part.index(after: open)..<close])
        }
        return nil
    }
}
