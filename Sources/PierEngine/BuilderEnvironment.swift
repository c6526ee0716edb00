/// The environment a Dockerfile builder (docker buildx, podman, buildah) runs in, and how build arguments reach it.
///
/// pier runs in CI next to secrets (PIER_PASSWORD, GITHUB_TOKEN, CI_JOB_TOKEN, cloud keys). A builder gets only what
/// it needs to work: the process basics, its own configuration variables and proxies, plus what the user passes
/// (`--build-arg`, `--pass-env`). Build argument values travel in that environment, not on the command line, so they
/// are in no log line and in no `ps` listing.
public enum BuilderEnvironment {
    /// Variables a builder reads, by exact name.
    public static let names: Set<String> = [
        // The process basics.
        "PATH", "HOME", "TMPDIR", "USER", "LOGNAME", "LANG", "TERM", "TZ", "SOURCE_DATE_EPOCH",
        // buildah and podman (containers-storage, containers.conf, registries.conf, auth.json).
        "STORAGE_DRIVER", "STORAGE_OPTS", "REGISTRY_AUTH_FILE", "CONTAINER_HOST", "CONTAINER_CONNECTION",
        // docker and buildx.
        "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY", "DOCKER_BUILDKIT",
        // Proxies, both spellings.
        "http_proxy", "https_proxy", "no_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
    ]
    /// Variables a builder reads, by prefix: `CONTAINERS_CONF`, `BUILDAH_ISOLATION`, `XDG_RUNTIME_DIR`, `LC_ALL`, ….
    public static let prefixes = ["CONTAINERS_", "BUILDAH_", "BUILDKIT_", "BUILDX_", "XDG_", "LC_"]

    static func isBuilderVariable(_ name: String) -> Bool {
        names.contains(name) || prefixes.contains { name.hasPrefix($0) }
    }

    /// The part of `environment` a builder gets: its own variables, and those named in `passing`.
    public static func child(of environment: [String: String], passing: [String]) -> [String: String] {
        let passed = Set(passing)
        return environment.filter { isBuilderVariable($0.key) || passed.contains($0.key) }
    }

    /// `--build-arg` values and the variables that carry them. `NAME=VALUE` becomes `NAME`, with NAME=VALUE in the
    /// builder's environment (docker, podman and buildah take a name-only build argument's value from it); `NAME`
    /// alone passes pier's own NAME. A name the builder itself reads (PATH, HOME, …) keeps `NAME=VALUE` on its
    /// command line, so the builder's own setting is not replaced.
    public static func buildArguments(_ arguments: [String], environment: [String: String]) -> (
        arguments: [String], environment: [String: String]
    ) {
        var names: [String] = []
        var values: [String: String] = [:]
        for argument in arguments {
            guard let equals = argument.firstIndex(of: "=") else {
                names.append(argument)
                if let value = environment[argument], !isBuilderVariable(argument) { values[argument] = value }
                continue
            }
            let name = String(argument[..<equals])
            if name.isEmpty || isBuilderVariable(name) {
                names.append(argument)
            } else {
                names.append(name)
                values[name] = String(argument[argument.index(after: equals)...])
            }
        }
        return (names, values)
    }

    /// A command line for the log: every `--build-arg` shows its name only.
    public static func redacted(_ commandLine: [String]) -> [String] {
        var result: [String] = []
        for (index, word) in commandLine.enumerated() {
            if index > 0, commandLine[index - 1] == "--build-arg", let equals = word.firstIndex(of: "=") {
                result.append(String(word[..<equals]) + "=…")
            } else {
                result.append(word)
            }
        }
        return result
    }
}
