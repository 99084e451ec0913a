import BuildAPI
import BuildDrivers
import Foundation
import HTTPTypes
import Hummingbird
import OCI
import OpenAPIRuntime
import PathBytes
import Records
import ServiceKit
import StageClients
import StageRuns

typealias BuildBody = Operations.StartBuild.Input.Body.JsonPayload

/// build-service's operations of openapi/build.yaml: `POST /v1/builds` builds an image tarball
/// from a stored context, as a run.
struct BuildHandlers: APIProtocol {
    let configuration: BuildConfiguration
    let drivers: BuildDriverSet
    let artifacts: ArtifactServiceClient
    /// `/v1/builds`, at most `BUILD_CONCURRENCY` running at once.
    let runs: RunResource

    func startBuild(_ input: Operations.StartBuild.Input) async throws -> Operations.StartBuild.Output {
        guard case .json(let body) = input.body else { throw ServiceError.badRequest("expected a JSON body") }
        try Self.check(body)
        // A driver this instance lacks fails the run as before; one it has may refuse the secrets now.
        if let driver = try? drivers.driver(body.driverChoice ?? configuration.driver) { try Self.checkSecrets(body, driver: driver) }
        let masker = SecretMasker(values: Array(body.secretBuildArgMap.values) + Array(body.secretFileMap.values))
        let run = try await runs.start(
            jobID: body.jobID, leaseToken: input.headers.buildchainLeaseToken, request: body, masker: masker
        ) { log in
            try await BuildRun(body: body, service: self, log: log).perform()
        }
        return .accepted(
            .init(headers: .init(location: runs.location(of: run)), body: .json(try RunBody(run, path: runs.path).typed())))
    }

    func getBuild(_ input: Operations.GetBuild.Input) async throws -> Operations.GetBuild.Output {
        .ok(.init(body: .json(try await runs.body(input.path.id).typed())))
    }

    func cancelBuild(_ input: Operations.CancelBuild.Input) async throws -> Operations.CancelBuild.Output {
        .accepted(.init(body: .json(try await runs.cancel(input.path.id).typed())))
    }

    func getBuildEvents(_ input: Operations.GetBuildEvents.Input) async throws -> Operations.GetBuildEvents.Output {
        try await runs.events(input.path.id, after: input.query.after, accepting: input.headers.accept) { body, sse in
            .ok(.init(body: sse ? .textEventStream(body) : .applicationXNdjson(body)))
        }
    }

    /// Secrets the chosen driver cannot take without leaking them or at all: 422 SECRETS_UNSUPPORTED.
    /// (Names and ids are checked with the rest of the request, by `BuildRequest.validate`.)
    static func checkSecrets(_ body: BuildBody, driver: any BuildDriver) throws {
        let unsupported: BuildRequestError? =
            switch driver {
            case is KanikoDriver where !body.secretFileMap.isEmpty: .secretFilesUnsupported(by: KanikoDriver.builderName)
            case is KanikoKubernetesDriver where !body.secretFileMap.isEmpty || !body.secretBuildArgMap.isEmpty:
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
    static func check(_ body: BuildBody) throws {
        func refuse(_ detail: String) -> ServiceError { .badRequest(detail, code: "INVALID_BUILD") }
        if body.dockerfile != nil && body.dockerfilePath != nil {
            throw refuse("give dockerfile (text) or dockerfile_path, not both")
        }
        if let path = body.dockerfilePath, path.isEmpty || path.bytesStart(with: "/") || path.hasDotDotSegment {
            throw refuse("dockerfile_path must be a relative path inside the context")
        }
        if let text = body.jobId, UUID(uuidString: text) == nil { throw ServiceError.badRequest("job_id: expected a UUID", code: "INVALID_JSON") }
        var secrets = BuildRequest(
            contextDirectory: "/", buildArguments: body.buildArgMap, workload: body.workload, service: body.service,
            destination: "x", outputPath: "/x")
        secrets.secretBuildArguments = body.secretBuildArgMap
        secrets.secretFiles = body.secretFileMap
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

extension BuildBody {
    var buildArgMap: [String: String] { buildArgs?.additionalProperties ?? [:] }
    /// Build args whose values are secret, and secret files (id → content): given to the
    /// builder, masked in everything recorded, never stored.
    var secretBuildArgMap: [String: String] { secretBuildArgs?.additionalProperties ?? [:] }
    var secretFileMap: [String: String] { secrets?.additionalProperties ?? [:] }
    /// `job_id`, checked to be a UUID by `BuildHandlers.check`.
    var jobID: UUID? { jobId.flatMap(UUID.init(uuidString:)) }
    var driverChoice: BuildConfiguration.Driver? { driver.flatMap { BuildConfiguration.Driver(rawValue: $0.rawValue) } }
}
