import ArgumentParser
import Foundation
import Testing

@testable import BuildchainCLI

/// `--secret-build-arg NAME[=VALUE]` and `--secret ID[=FILE]`.
@Suite struct SecretOptionTests {
    @Test func valuesComeFromTheOptionOrTheEnvironment() throws {
        let options = try ["NPM_TOKEN=npm=x", "DB_PASS", "EMPTY="].map(SecretOption.init(parsing:))
        let values = try SecretOption.buildArgs(options, environment: ["DB_PASS": "from-env"])
        #expect(values == ["NPM_TOKEN": "npm=x", "DB_PASS": "from-env", "EMPTY": ""])
        #expect(try SecretOption.buildArgs([], environment: [:]) == nil)
        #expect(throws: (any Error).self) { try SecretOption.buildArgs(options, environment: [:]) }
        #expect(throws: (any Error).self) { try SecretOption(parsing: "=x") }
    }

    @Test func aFileSecretSendsTheFilesContent() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("npmrc-\(UUID().uuidString)")
        try "//r/:_authToken=t\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let files = try SecretOption.files(
            [try SecretOption(parsing: "npmrc=\(file.path)"), try SecretOption(parsing: "ssh")], environment: ["ssh": "key"])
        #expect(files == ["npmrc": "//r/:_authToken=t\n", "ssh": "key"])
        #expect(throws: (any Error).self) { try SecretOption.files([try SecretOption(parsing: "x=/no/such/file")], environment: [:]) }
    }

    @Test func buildParsesBothOptions() throws {
        let command = try BuildCommand.parse([
            "--repo", "https://git.example/x.git", "--ref", "main", "--workload", "w", "--service", "s",
            "--secret-build-arg", "NPM_TOKEN=t", "--secret", "npmrc",
        ])
        let (args, files) = try command.secrets.values(try CLIEnvironment(["npmrc": "content"]))
        #expect(args == ["NPM_TOKEN": "t"] && files == ["npmrc": "content"])
    }
}
