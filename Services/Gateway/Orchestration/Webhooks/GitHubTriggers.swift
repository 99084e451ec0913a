import Foundation
import GatewayAPI

/// Which builds a push to a GitHub repository starts: read from the JSON file
/// `GITHUB_WEBHOOK_TRIGGERS_FILE` names (README.md, "GitHub push webhooks").
public struct GitHubTrigger: Codable, Sendable, Equatable {
    public struct Build: Codable, Sendable, Equatable {
        public var workload: String
        public var service: String
        public var dockerfilePath: String?
        public var contextPath: String?
        public var target: String?
        public var buildArgs: [String: String]?
        /// The push destination; `{commit}` becomes the pushed commit, `{short}` its first 12 characters.
        public var push: String?

        enum CodingKeys: String, CodingKey {
            case workload, service, target, push
            case dockerfilePath = "dockerfile_path"
            case contextPath = "context_path"
            case buildArgs = "build_args"
        }
    }

    /// `owner/name`, as GitHub's `repository.full_name` (compared without regard to case).
    public var repository: String
    /// The URL to clone instead of the payload's `repository.clone_url` (a mirror, a local path).
    public var url: String?
    /// Full ref patterns (`refs/heads/main`, `refs/tags/v*`); `*` matches any run of characters.
    public var refs: [String]
    public var builds: [Build]

    /// Whether a pattern of `refs` matches `ref`.
    public func matches(ref: String) -> Bool {
        refs.contains { Self.glob($0, matches: ref) }
    }

    static func glob(_ pattern: String, matches text: String) -> Bool {
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        guard parts.count > 1 else { return pattern == text }
        guard text.hasPrefix(parts[0]), text.hasSuffix(parts[parts.count - 1]),
            text.count >= parts[0].count + parts[parts.count - 1].count
        else { return false }
        var rest = Substring(text.dropFirst(parts[0].count).dropLast(parts[parts.count - 1].count))
        for middle in parts.dropFirst().dropLast() where !middle.isEmpty {
            guard let range = rest.range(of: middle) else { return false }
            rest = rest[range.upperBound...]
        }
        return true
    }

    /// The build requests a push of `commit` (at `ref`) starts.
    public func requests(ref: String, commit: String, cloneURL: String) -> [BuildJobRequest] {
        builds.map { build in
            var request = BuildJobRequest(
                workload: build.workload, service: build.service,
                repository: .init(url: url ?? cloneURL, ref: commit), contextPath: build.contextPath,
                dockerfilePath: build.dockerfilePath, target: build.target,
                buildArgs: build.buildArgs.map { .init(additionalProperties: $0) })
            request.push = build.push.map {
                BuildJobRequest.PushPayload(
                    destination: $0.replacingOccurrences(of: "{commit}", with: commit)
                        .replacingOccurrences(of: "{short}", with: String(commit.prefix(12))))
            }
            return request
        }
    }
}

/// The configured triggers, by repository.
public struct GitHubTriggers: Sendable {
    public let triggers: [GitHubTrigger]

    public init(_ triggers: [GitHubTrigger]) { self.triggers = triggers }

    public init(json: Data) throws {
        self.init(try JSONDecoder().decode([GitHubTrigger].self, from: json))
    }

    public func trigger(for repository: String) -> GitHubTrigger? {
        triggers.first { $0.repository.lowercased() == repository.lowercased() }
    }
}

/// The fields of GitHub's `push` event payload the gateway reads.
public struct GitHubPushEvent: Sendable {
    public struct Repository: Sendable {
        public var fullName: String
        public var cloneURL: String
    }

    public var ref: String
    /// The commit the ref points to after the push (all zeros when the ref was deleted).
    public var after: String
    public var deleted: Bool?
    public var repository: Repository

    /// Read from the payload's members as the contract's free-form object holds them; nil when
    /// `ref`, `after`, `repository.full_name` or `repository.clone_url` is missing or not a
    /// string, or `deleted` is there and not a boolean.
    public init?(payload: [String: (any Sendable)?]) {
        guard let ref = payload["ref"] as? String, let after = payload["after"] as? String,
            let repository = payload["repository"] as? [String: (any Sendable)?],
            let fullName = repository["full_name"] as? String, let cloneURL = repository["clone_url"] as? String
        else { return nil }
        let deleted = payload["deleted"] ?? nil
        guard deleted == nil || deleted is Bool else { return nil }
        self.ref = ref
        self.after = after
        self.deleted = deleted as? Bool
        self.repository = Repository(fullName: fullName, cloneURL: cloneURL)
    }
}
