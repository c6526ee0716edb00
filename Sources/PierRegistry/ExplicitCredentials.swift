import PierModel

/// Credentials given on the command line or in the environment, each bound to the one registry it is for before
/// any request is sent (so a credential never reaches a registry it was not given for, such as the third-party
/// source of `pier copy`).
public enum ExplicitCredentials {
    /// One username given by the user, and where it goes.
    public struct Given: Sendable {
        public enum Scope: Sendable, Equatable {
            /// One named registry (`--creds HOST=USER`, `PIER_REGISTRY`, `--src-creds`, `--dest-creds`).
            case host(String)
            /// The command's target registry (`-u`, `PIER_USERNAME` without `PIER_REGISTRY`): allowed only when the
            /// command's targets are one registry.
            case target
        }
        public var scope: Scope
        public var username: String
        /// The environment variable holding the secret when it does not come from `--password-stdin`.
        public var secretVariable: String
        /// How the user gave it, for messages: `-u`, `PIER_USERNAME`, `--creds`, `--src-creds`.
        public var flag: String

        public init(scope: Scope, username: String, secretVariable: String, flag: String) {
            self.scope = scope
            self.username = username
            self.secretVariable = secretVariable
            self.flag = flag
        }
    }

    /// Binds each given username and its secret to its registry host (normalised).
    ///
    /// - Parameters:
    ///   - given: the usernames given.
    ///   - stdinSecret: reads the secret from standard input (`--password-stdin`); it serves exactly one username.
    ///   - environment: where secrets named by `secretVariable` are read.
    ///   - targets: the registry hosts the command targets (the destination of `copy`, `publish --to`, the image
    ///     of `inspect`), for `.target` credentials.
    public static func resolve(
        _ given: [Given], stdinSecret: (() -> String)?, environment: [String: String], targets: [String]
    ) throws(PierError) -> [String: Credential] {
        if stdinSecret != nil, given.count != 1 {
            throw PierError(
                .usage, operation: "read credentials",
                message: given.isEmpty
                    ? "--password-stdin needs a username (-u, --creds HOST=USER, --src-creds or --dest-creds)"
                    : "--password-stdin supplies one secret, but \(given.count) usernames were given (\(given.map(\.flag).joined(separator: ", ")))",
                hint: "give the other secrets in their environment variables")
        }
        let stdin = stdinSecret.map { $0() }
        var bound: [String: (Credential, String)] = [:]
        for item in given {
            guard !item.username.isEmpty else {
                throw PierError(.usage, operation: "read credentials", message: "\(item.flag) has an empty username")
            }
            guard let secret = stdin ?? environment[item.secretVariable], !secret.isEmpty else {
                throw PierError(
                    .usage, operation: "read credentials", message: "\(item.flag) gives a username without a password",
                    hint: "pipe the password into --password-stdin or set \(item.secretVariable)")
            }
            let hosts: [String]
            switch item.scope {
            case .host(let host): hosts = [DockerConfig.normalizedHost(host)]
            case .target:
                hosts = Array(Set(targets.map(DockerConfig.normalizedHost))).sorted()
                guard hosts.count <= 1 else {
                    throw PierError(
                        .usage, operation: "read credentials",
                        message:
                            "\(item.flag) names no registry and this command targets \(hosts.count) (\(hosts.joined(separator: ", ")))",
                        hint:
                            "set PIER_REGISTRY=HOST, or use --creds HOST=USER, or username_env/password_env per registry in pier.yml"
                    )
                }
            }
            let credential = Credential.basic(username: item.username, password: secret)
            for host in hosts {
                if let (existing, flag) = bound[host], existing != credential {
                    throw PierError(
                        .usage, operation: "read credentials",
                        message: "\(flag) and \(item.flag) give different credentials for \(host)")
                }
                bound[host] = (credential, item.flag)
            }
        }
        return bound.mapValues(\.0)
    }
}
