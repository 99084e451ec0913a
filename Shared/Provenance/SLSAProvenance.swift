import Foundation

/// The SLSA Provenance v1 predicate (slsa.dev/spec/v1.0/provenance) as buildchain fills it in.
public struct SLSAProvenance: Codable, Sendable, Equatable {
    public static let predicateType = "https://slsa.dev/provenance/v1"
    /// What `buildDefinition.buildType` names: how to read the parameters below.
    public static let buildType = "https://buildchain.dev/build/v1"

    public struct BuildDefinition: Codable, Sendable, Equatable {
        public var buildType = SLSAProvenance.buildType
        public var externalParameters: ExternalParameters
        public var internalParameters: InternalParameters
        /// The source at its commit, then every base image as pulled (proxied name and digest).
        public var resolvedDependencies: [ResourceDescriptor]

        public init(
            externalParameters: ExternalParameters, internalParameters: InternalParameters,
            resolvedDependencies: [ResourceDescriptor]
        ) {
            self.externalParameters = externalParameters
            self.internalParameters = internalParameters
            self.resolvedDependencies = resolvedDependencies
        }
    }

    /// What the build request said (secret values never; their names with `***`).
    public struct ExternalParameters: Codable, Sendable, Equatable {
        public struct Repository: Codable, Sendable, Equatable {
            public var url: String
            public var ref: String

            public init(url: String, ref: String) {
                self.url = url
                self.ref = ref
            }
        }

        public var workload: String
        public var service: String
        public var repository: Repository
        public var contextPath: String
        public var dockerfilePath: String
        public var target: String?
        public var buildArgs: [String: String]
        public var secretBuildArgs: [String: String]?
        public var secretFiles: [String]?
        public var cache: Bool
        public var mirrors: Bool
        public var pushDestination: String?

        public init(
            workload: String, service: String, repository: Repository, contextPath: String, dockerfilePath: String,
            target: String?, buildArgs: [String: String], secretBuildArgs: [String: String]?, secretFiles: [String]?,
            cache: Bool, mirrors: Bool, pushDestination: String?
        ) {
            self.workload = workload
            self.service = service
            self.repository = repository
            self.contextPath = contextPath
            self.dockerfilePath = dockerfilePath
            self.target = target
            self.buildArgs = buildArgs
            self.secretBuildArgs = secretBuildArgs
            self.secretFiles = secretFiles
            self.cache = cache
            self.mirrors = mirrors
            self.pushDestination = pushDestination
        }
    }

    /// What buildchain decided: the Dockerfile as checked out and as built, the rewrite, the driver.
    public struct InternalParameters: Codable, Sendable, Equatable {
        public struct Rewrite: Codable, Sendable, Equatable {
            public var line: Int
            public var instruction: String
            public var from: String
            public var to: String

            public init(line: Int, instruction: String, from: String, to: String) {
                self.line = line
                self.instruction = instruction
                self.from = from
                self.to = to
            }
        }

        public var commit: String
        /// `sha256:<hex>` of the Dockerfile as checked out.
        public var dockerfileDigest: String
        /// `sha256:<hex>` of the Dockerfile as built (after the rewrite).
        public var rewrittenDockerfileDigest: String
        public var rewrites: [Rewrite]
        public var driver: String
        public var reusedFrom: String?

        public init(
            commit: String, dockerfileDigest: String, rewrittenDockerfileDigest: String, rewrites: [Rewrite],
            driver: String, reusedFrom: String?
        ) {
            self.commit = commit
            self.dockerfileDigest = dockerfileDigest
            self.rewrittenDockerfileDigest = rewrittenDockerfileDigest
            self.rewrites = rewrites
            self.driver = driver
            self.reusedFrom = reusedFrom
        }
    }

    public struct RunDetails: Codable, Sendable, Equatable {
        public struct Builder: Codable, Sendable, Equatable {
            public var id: String
            /// Component → version (`buildah` → `1.39.3`).
            public var version: [String: String]?

            public init(id: String, version: [String: String]?) {
                self.id = id
                self.version = version
            }
        }

        public struct Metadata: Codable, Sendable, Equatable {
            public var invocationID: String
            public var startedOn: String?
            public var finishedOn: String?

            enum CodingKeys: String, CodingKey {
                case invocationID = "invocationId"
                case startedOn, finishedOn
            }

            public init(invocationID: String, startedOn: String?, finishedOn: String?) {
                self.invocationID = invocationID
                self.startedOn = startedOn
                self.finishedOn = finishedOn
            }
        }

        public var builder: Builder
        public var metadata: Metadata
        /// One descriptor per stage (`stage/checkout` …) with its start, end and duration as annotations.
        public var byproducts: [ResourceDescriptor]

        public init(builder: Builder, metadata: Metadata, byproducts: [ResourceDescriptor]) {
            self.builder = builder
            self.metadata = metadata
            self.byproducts = byproducts
        }
    }

    public var buildDefinition: BuildDefinition
    public var runDetails: RunDetails

    public init(buildDefinition: BuildDefinition, runDetails: RunDetails) {
        self.buildDefinition = buildDefinition
        self.runDetails = runDetails
    }
}
