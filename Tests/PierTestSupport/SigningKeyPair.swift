/// ECDSA P-256 key pairs made by openssl, as users make them for `pier sign` and `cosign`.
public enum SigningKeyPair {
    /// A new pair in a fresh directory: PKCS#8 (`genpkey`) or SEC1 with its `EC PARAMETERS` block (`ecparam`);
    /// returns the private and public PEM files' paths.
    public static func make(sec1: Bool = false) throws -> (key: String, pub: String) {
        let directory = Tools.temporaryDirectory("pier-keys")
        let (key, pub) = (directory + "/key.pem", directory + "/pub.pem")
        if sec1 {
            try Tools.run("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-out", key])
        } else {
            try Tools.run(
                "openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key])
        }
        try Tools.run("openssl", ["pkey", "-in", key, "-pubout", "-out", pub])
        return (key, pub)
    }
}
