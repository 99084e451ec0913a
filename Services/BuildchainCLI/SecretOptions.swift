import ArgumentParser
import Foundation

/// `--secret-build-arg` and `--secret`, for `build` and for `retry` (a job's secrets are deleted
/// when it ends, so a retry gives them again).
struct SecretOptions: ParsableArguments {
    @Option(
        secret: "secret-build-arg", valueName: "name[=value]",
        help: "A build argument whose value is secret: it reaches the build only and is masked everywhere else; NAME alone reads the value from the environment variable NAME. Repeatable.")
    var buildArguments: [SecretOption] = []

    @Option(
        secret: "secret", valueName: "id[=file]",
        help: "A secret file for RUN --mount=type=secret,id=ID: ID=FILE sends FILE's content, ID alone the environment variable ID. Repeatable.")
    var files: [SecretOption] = []

    /// The request's `secret_build_args` and `secrets` (nil when none were given).
    func values(_ environment: CLIEnvironment) throws -> (buildArgs: [String: String]?, files: [String: String]?) {
        (
            try SecretOption.buildArgs(buildArguments, environment: environment.variables),
            try SecretOption.files(files, environment: environment.variables)
        )
    }
}

extension Option where Value == [SecretOption] {
    /// A repeatable `--<name>` whose every value is read as a `SecretOption`.
    init(wrappedValue: [SecretOption], secret name: String, valueName: String, help: String) {
        self.init(
            wrappedValue: wrappedValue, name: .customLong(name), help: ArgumentHelp(help, valueName: valueName),
            transform: SecretOption.init(parsing:))
    }
}

/// One `--secret-build-arg NAME[=VALUE]` or `--secret ID[=FILE]`. Without `=`, the value (for
/// a file: the content) is read from the environment variable of that name, so it is not on
/// the command line (shell history, `ps`).
struct SecretOption: Sendable, Equatable {
    var name: String
    /// The value (`--secret-build-arg`) or the file's path (`--secret`); nil: the environment's.
    var given: String?

    init(parsing text: String) throws {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let name = parts.first, !name.isEmpty, !name.contains(where: \.isWhitespace) else {
            throw ValidationError("expected NAME=VALUE or NAME (its value from the environment)")
        }
        self.name = name
        given = parts.count == 2 ? parts[1] : nil
    }

    /// `--secret-build-arg`s as the request's map; nil when there are none.
    static func buildArgs(_ options: [SecretOption], environment: [String: String]) throws -> [String: String]? {
        try resolve(options, environment: environment) { $0 }
    }

    /// `--secret`s as the request's map of id → content; `ID=FILE` reads FILE (UTF-8 text).
    static func files(_ options: [SecretOption], environment: [String: String]) throws -> [String: String]? {
        try resolve(options, environment: environment) { path in
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("--secret: cannot read \(path)")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw ValidationError("--secret: \(path) is not UTF-8 text")
            }
            return text
        }
    }

    private static func resolve(
        _ options: [SecretOption], environment: [String: String], given: (String) throws -> String
    ) throws -> [String: String]? {
        guard !options.isEmpty else { return nil }
        var values: [String: String] = [:]
        for option in options {
            if let text = option.given {
                values[option.name] = try given(text)
            } else if let value = environment[option.name] {
                values[option.name] = value
            } else {
                throw ValidationError("\(option.name) is not set in the environment (give NAME=VALUE or set it)")
            }
        }
        return values
    }
}
