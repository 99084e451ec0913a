import Foundation

/// The request bodies the gateway sends to the stage services (see their openapi/ specs).
struct CheckoutCall: Encodable, Sendable {
    var repository: String
    var ref: String
    var contextPath: String?
    var dockerfilePath: String?
    var jobID: UUID

    init(request: BuildJobRequest, jobID: UUID) {
        repository = request.repository.url
        ref = request.repository.ref
        contextPath = request.contextPath
        dockerfilePath = request.dockerfilePath
        self.jobID = jobID
    }

    enum CodingKeys: String, CodingKey {
        case repository, ref
        case contextPath = "context_path"
        case dockerfilePath = "dockerfile_path"
        case jobID = "job_id"
    }
}

struct RewriteCall: Encodable, Sendable {
    var dockerfile: String
    var buildArgs: [String: String]

    enum CodingKeys: String, CodingKey {
        case dockerfile
        case buildArgs = "build_args"
    }
}

struct BuildCall: Encodable, Sendable {
    var contextKey: String
    var dockerfile: String
    var buildArgs: [String: String]
    var target: String?
    var workload: String
    var service: String
    var cache: Bool
    var mirrors: Bool
    var driver: String
    var destination: String?
    var imageKey: String
    var commit: String
    var jobID: UUID
    /// The opened secret values (never recorded by the gateway; build-service masks them).
    var secretBuildArgs: [String: String]?
    var secrets: [String: String]?

    enum CodingKeys: String, CodingKey {
        case dockerfile, target, workload, service, cache, mirrors, driver, destination, commit, secrets
        case secretBuildArgs = "secret_build_args"
        case contextKey = "context_key"
        case buildArgs = "build_args"
        case imageKey = "image_key"
        case jobID = "job_id"
    }
}

struct PushCall: Encodable, Sendable {
    var artifactKey: String
    var destination: String
    var jobID: UUID

    enum CodingKeys: String, CodingKey {
        case destination
        case artifactKey = "artifact_key"
        case jobID = "job_id"
    }
}

/// artifact-service's `POST /v1/attestations`: attach the stored envelope to the pushed manifest.
struct AttestationCall: Encodable, Sendable {
    var artifactKey: String
    /// `registry/repository@sha256:<hex>`.
    var subject: String

    enum CodingKeys: String, CodingKey {
        case subject
        case artifactKey = "artifact_key"
    }
}
