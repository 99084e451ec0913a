import GatewayAPI
import RequestValidation

extension Components.Schemas.BuildRequest {
    /// The request a parsed body holds, as the generated decoder decodes it (`JSONDecoder`,
    /// whose reading the parse follows), for bodies of the request's own shape: every member
    /// known and of its type, `null` for an absent optional one. Nil for any other body, which
    /// is left to the decoder (to decode it, or to refuse it in its own words).
    init?(parsed body: JSONNode) {
        guard case .object(let members) = body, members.keys.allSatisfy(Self.memberNames.contains),
            case .string(let workload)? = members["workload"], case .string(let service)? = members["service"],
            case .object(let repository)? = members["repository"], repository.count == 2,
            case .string(let url)? = repository["url"], case .string(let ref)? = repository["ref"],
            let contextPath = Self.optional(members["context_path"], Self.text),
            let dockerfilePath = Self.optional(members["dockerfile_path"], Self.text),
            let target = Self.optional(members["target"], Self.text),
            let buildArgs = Self.optional(members["build_args"], Self.texts),
            let secretBuildArgs = Self.optional(members["secret_build_args"], Self.texts),
            let secrets = Self.optional(members["secrets"], Self.texts),
            let cache = Self.optional(members["cache"], Self.flag), let mirrors = Self.optional(members["mirrors"], Self.flag),
            let fresh = Self.optional(members["fresh"], Self.flag), let dryRun = Self.optional(members["dry_run"], Self.flag),
            let push = Self.optional(members["push"], Self.destination)
        else { return nil }
        self.init(
            workload: workload, service: service, repository: .init(url: url, ref: ref), contextPath: contextPath,
            dockerfilePath: dockerfilePath, target: target, buildArgs: buildArgs.map { .init(additionalProperties: $0) },
            secretBuildArgs: secretBuildArgs.map { .init(additionalProperties: $0) },
            secrets: secrets.map { .init(additionalProperties: $0) }, cache: cache, mirrors: mirrors, fresh: fresh,
            dryRun: dryRun, push: push.map { .init(destination: $0) })
    }

    /// The members read above (`CodingKeys`); a body with a member the spec adds later is the
    /// decoder's until it is read here.
    private static let memberNames: Set<String> = [
        "workload", "service", "repository", "context_path", "dockerfile_path", "target", "build_args", "secret_build_args",
        "secrets", "cache", "mirrors", "fresh", "dry_run", "push",
    ]

    /// An optional member: `.some(nil)` when absent or `null` (as `decodeIfPresent` reads it),
    /// `.some(value)` when `read` takes it, nil when it does not.
    private static func optional<T>(_ member: JSONNode?, _ read: (JSONNode) -> T?) -> T?? {
        guard let member, member != .null else { return .some(nil) }
        return read(member).map { .some($0) }
    }

    private static func text(_ node: JSONNode) -> String? {
        guard case .string(let text) = node else { return nil }
        return text
    }

    private static func flag(_ node: JSONNode) -> Bool? {
        guard case .bool(let flag) = node else { return nil }
        return flag
    }

    /// An object of texts only (a `null` among them is refused by the decoder, so is left to it).
    private static func texts(_ node: JSONNode) -> [String: String]? {
        guard case .object(let members) = node else { return nil }
        var texts: [String: String] = [:]
        texts.reserveCapacity(members.count)
        for (name, value) in members {
            guard case .string(let text) = value else { return nil }
            texts[name] = text
        }
        return texts
    }

    private static func destination(_ node: JSONNode) -> String? {
        guard case .object(let members) = node, members.count == 1, case .string(let destination)? = members["destination"]
        else { return nil }
        return destination
    }
}
