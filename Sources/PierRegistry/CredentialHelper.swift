import Foundation
import PierModel

/// Runs a docker credential helper, `docker-credential-NAME get|store|erase`, with the protocol docker uses
/// (docker-credential-helpers `client/client.go`): the server URL on stdin, JSON on stdout.
struct CredentialHelper: Sendable {
    let name: String
    var executable: String { "docker-credential-\(name)" }

    struct Answer: Decodable {
        var Username: String
        var Secret: String
    }

    func get(serverURL: String) throws(PierError) -> Credential? {
        let (status, output) = try run("get", input: Data(serverURL.utf8))
        if status != 0 {
            // The helper's way of saying "nothing stored": not an error for the chain.
            if output.contains("credentials not found") { return nil }
            throw failure("get", output)
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(output.utf8)) else {
            throw PierError(
                .auth, operation: "credential helper \(executable) get",
                message: "answered with something other than JSON")
        }
        // docker-credential-helpers mark identity tokens with this username.
        if answer.Username == "<token>" { return .identityToken(answer.Secret) }
        return .basic(username: answer.Username, password: answer.Secret)
    }

    func store(serverURL: String, username: String, secret: String) throws(PierError) {
        let body = try? JSONSerialization.data(withJSONObject: [
            "ServerURL": serverURL, "Username": username, "Secret": secret,
        ])
        let (status, output) = try run("store", input: body ?? Data())
        if status != 0 { throw failure("store", output) }
    }

    func erase(serverURL: String) throws(PierError) {
        let (status, output) = try run("erase", input: Data(serverURL.utf8))
        if status != 0 { throw failure("erase", output) }
    }

    private func failure(_ verb: String, _ output: String) -> PierError {
        PierError(
            .auth, operation: "credential helper \(executable) \(verb)",
            message: output.split(separator: "\n").first.map(String.init) ?? "failed")
    }

    private func run(_ verb: String, input: Data) throws(PierError) -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable, verb]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stdout
        do {
            try process.run()
        } catch {
            throw PierError(
                .auth, operation: "credential helper", message: "cannot run \(executable)",
                hint: "install it or remove it from docker's config.json", cause: "\(error.localizedDescription)")
        }
        // A helper may exit before reading its stdin: the throwing write reports EPIPE instead of raising an
        // Objective-C exception (SIGPIPE itself is ignored by the pier process, see Pier.main).
        try? stdin.fileHandleForWriting.write(contentsOf: input)
        try? stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus == 127 {
            throw PierError(
                .auth, operation: "credential helper", message: "\(executable) is not installed",
                hint: "install it or remove it from docker's config.json")
        }
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
