import BuildDrivers
import Foundation
import HTTPTypes
import Hummingbird
import OCI
import PathBytes
import Records
import ServiceKit

/// `POST /v1/builds`: build an image tarball from a stored context, as a run.
struct BuildRoutes {
    let configuration: BuildConfiguration
    let drivers: BuildDriverSet
    let artifacts: ArtifactServiceClient
    let executor: RunExecutor
    let store: RunStore
    let limiter: RunLimiter

    static let path = "/v1/builds"

    struct Body: Codable, Sendable {
        var contextKey: String
        var dockerfile: String?
        var dockerfilePath: String?
        var target: String?
        var buildArgs: [String: String]?
        /// Build args whose values are secret, and secret files (id → content): given to the
        /// builder, masked in everything recorded, never stored.
        var secretBuildArgs: [String: String]?
        var secrets: [String: String]?
        var workload: String
        var service: String
        var cache: Bool?
        var mirrors: Bool?
        var driver: BuildConfiguration.Driver?
        var destination: String?
        var imageKey: String?
        var commit: String?
        var jobID: UUID?

        enum CodingKeys: String, CodingKey {
            case dockerfile, target, workload, service, cache, mirrors, driver, destination, commit, secrets
            case secretBuildArgs = "secret_build_args"
            case contextKey = "context_key"
            case dockerfilePath = "dockerfile_path"
            case buildArgs = "build_args"
            case imageKey = "image_key"
            case jobID = "job_id"
        }
    }

    func register(on router: Router<ServiceRequestContext>) {
        router.post(RouterPath(Self.path)) { request, context in
            let body = try await request.decodeJSON(as: Body.self, context: context)
            try Self.check(body)
            // A driver this instance lacks fails the run as before; one it has may refuse the secrets now.
            if let driver = try? drivers.driver(body.driver ?? configuration.driver) { try Self.checkSecrets(body, driver: driver) }
            let masker = SecretMasker(values: Array((body.secretBuildArgs ?? [:]).values) + Array((body.secrets ?? [:]).values))
            let run = try await executor.start(
                kind: "build", jobID: body.jobID, leaseToken: try RunRoutes<ServiceRequestContext>.leaseToken(of: request),
                request: body, masker: masker, limiter: limiter
            ) { log in
                try await BuildRun(body: body, configuration: configuration, drivers: drivers, artifacts: artifacts, log: log)
                    .perform()
            }
            return try RunRoutes<ServiceRequestContext>.accepted(run, path: Self.path)
        }
        RunRoutes<ServiceRequestContext>(path: Self.path, service: "build-service", kind: "build", store: store, executor: executor)
            .register(on: router)
    }

    /// Secrets the chosen driver cannot take without leaking them or at all: 422 SECRETS_UNSUPPORTED.
    /// (Names and ids are checked with the rest of the request, by `BuildRequest.validate`.)
    static func checkSecrets(_ body: Body, driver: any BuildDriver) throws {
        let unsupported: BuildRequestError? =
            switch driver {
            case is KanikoDriver where !(body.secrets ?? [:]).isEmpty: .secretFilesUnsupported(by: KanikoDriver.builderName)
            case is KanikoKubernetesDriver where !(body.secrets ?? [:]).isEmpty || !(body.secretBuildArgs ?? [:]).isEmpty:
                .secretsUnsupported(by: KanikoKubernetesDriver.builderName)
            default: nil
            }
        if let unsupported {
            throw ServiceError(.unprocessableContent, code: "SECRETS_UNSUPPORTED", detail: unsupported.description)
        }
    }

    /// What can be refused before anything runs and the spec cannot say (its limits, on names,
    /// `target`, `commit` and build-arg names, are checked before the route by `RequestValidationMiddleware`);
    /// the rest is checked on the unpacked context.
    static func check(_ body: Body) throws {
        func refuse(_ detail: String) -> ServiceError { .badRequest(detail, code: "INVALID_BUILD") }
        if body.dockerfile != nil && body.dockerfilePath != nil {
            throw refuse("give dockerfile (text) or dockerfile_path, not both")
        }
        if let path = body.dockerfilePath, path.isEmpty || path.bytesStart(with: "/") || path.hasDotDotSegment {
            throw refuse("dockerfile_path must be a relative path inside the context")
        }
        var secrets = BuildRequest(
            contextDirectory: "/", buildArguments: body.buildArgs ?? [:], workload: body.workload, service: body.service,
            destination: "x", outputPath: "/x")
        secrets.secretBuildArguments = body.secretBuildArgs ?? [:]
        secrets.secretFiles = body.secrets ?? [:]
        if let problem = secrets.secretNamesProblem { throw refuse(problem.description) }
        if let destination = body.destination {
            do {
                _ = try OCIReference(parsing: destination)
            } catch {
                throw refuse("destination: \(error)")
            }
        }
        // The keys artifact-service would refuse, refused before the build rather than after it.
        for (field, key) in [("context_key", body.contextKey)] + (body.imageKey.map { [("image_key", $0)] } ?? []) {
            if let violation = ArtifactKeyRule.violation(in: key) { throw refuse("\(field) \(violation)") }
        }
    }
}

/// The drivers this instance can run.
struct BuildDriverSet: Sendable {
    let buildah: any BuildDriver
    let kaniko: any BuildDriver
    let automatic: any BuildDriver
    var kanikoKubernetes: (any BuildDriver)? = nil

    func driver(_ choice: BuildConfiguration.Driver) throws -> any BuildDriver {
        switch choice {
        case .auto: return automatic
        case .buildah: return buildah
        case .kaniko: return kaniko
        case .kanikoKubernetes:
            guard let kanikoKubernetes else {
                throw RunFailure(
                    code: "INVALID_BUILD", message: "kaniko-kubernetes is not configured on this build-service",
                    retryable: false)
            }
            return kanikoKubernetes
        }
    }
}
