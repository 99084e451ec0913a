import Foundation

/// What `POST /v1/builds` asks for, as recorded on the job and read back by the worker.
public struct BuildJobRequest: Codable, Sendable, Equatable {
    public struct Repository: Codable, Sendable, Equatable {
        public var url: String
        public var ref: String

        public init(url: String, ref: String) {
            self.url = url
            self.ref = ref
        }
    }

    public struct Push: Codable, Sendable, Equatable {
        public var destination: String

        public init(destination: String) { self.destination = destination }
    }

    public var workload: String
    public var service: String
    public var repository: Repository
    public var contextPath: String?
    public var dockerfilePath: String?
    public var target: String?
    public var buildArgs: [String: String]?
    /// Build args whose values are secret. Recorded with `***` values; the values are sealed
    /// apart (see `BuildSecrets`) and reach the builder only.
    public var secretBuildArgs: [String: String]?
    /// Secret files for `RUN --mount=type=secret,id=<id>`: id → content. Recorded like `secretBuildArgs`.
    public var secrets: [String: String]?
    public var cache: Bool?
    public var mirrors: Bool?
    public var push: Push?
    /// Build even when an earlier build with the same key could be reused.
    public var fresh: Bool?
    /// Validate and record the job, then end it without running it (state `cancelled`, code `DRY_RUN`).
    public var dryRun: Bool?

    enum CodingKeys: String, CodingKey {
        case workload, service, repository, target, cache, mirrors, push, fresh, secrets
        case secretBuildArgs = "secret_build_args"
        case contextPath = "context_path"
        case dockerfilePath = "dockerfile_path"
        case buildArgs = "build_args"
        case dryRun = "dry_run"
    }

    public init(
        workload: String, service: String, repository: Repository, contextPath: String? = nil,
        dockerfilePath: String? = nil, target: String? = nil, buildArgs: [String: String]? = nil, cache: Bool? = nil,
        mirrors: Bool? = nil, push: Push? = nil, fresh: Bool? = nil, dryRun: Bool? = nil
    ) {
        self.workload = workload
        self.service = service
        self.repository = repository
        self.contextPath = contextPath
        self.dockerfilePath = dockerfilePath
        self.target = target
        self.buildArgs = buildArgs
        self.cache = cache
        self.mirrors = mirrors
        self.push = push
        self.fresh = fresh
        self.dryRun = dryRun
    }
}
