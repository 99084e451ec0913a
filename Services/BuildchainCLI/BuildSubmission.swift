/// The body of `POST /v1/builds`. Optional fields that were not given are left out, so the
/// gateway applies its own defaults.
struct BuildSubmission: Encodable, Sendable, Equatable {
    struct Repository: Encodable, Sendable, Equatable {
        var url: String
        var ref: String
    }

    struct Push: Encodable, Sendable, Equatable {
        var destination: String
    }

    var workload: String
    var service: String
    var repository: Repository
    var contextPath: String?
    var dockerfilePath: String?
    var target: String?
    var buildArgs: [String: String]?
    var secretBuildArgs: [String: String]? = nil
    var secrets: [String: String]? = nil
    var cache: Bool
    var mirrors: Bool
    var fresh: Bool
    var push: Push?
    /// Sent only when asked for (true).
    var dryRun: Bool? = nil

    enum CodingKeys: String, CodingKey {
        case workload, service, repository, target, cache, mirrors, fresh, push, secrets
        case secretBuildArgs = "secret_build_args"
        case dryRun = "dry_run"
        case contextPath = "context_path"
        case dockerfilePath = "dockerfile_path"
        case buildArgs = "build_args"
    }
}

/// One `--build-arg NAME=VALUE`. The value may be empty or hold further `=`.
struct BuildArgument: Sendable, Equatable {
    var name: String
    var value: String

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Parses `NAME=VALUE`; throws when there is no `=` or no name.
    init(parsing text: String) throws {
        guard let equals = text.firstIndex(of: "=") else {
            throw Invalid(description: "expected NAME=VALUE")
        }
        let name = String(text[..<equals])
        guard !name.isEmpty, !name.contains(where: \.isWhitespace) else {
            throw Invalid(description: "the name before '=' must be non-empty and without spaces")
        }
        self.init(name: name, value: String(text[text.index(after: equals)...]))
    }

    /// The arguments as the request's map; a name given twice keeps its last value.
    static func dictionary(_ arguments: [BuildArgument]) -> [String: String]? {
        guard !arguments.isEmpty else { return nil }
        return Dictionary(arguments.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
    }
}
