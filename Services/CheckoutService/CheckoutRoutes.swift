import Foundation
import GitCheckout
import HTTPTypes
import Hummingbird
import Records
import ServiceKit
import StageClients
import StageRuns

/// `POST /v1/checkouts`: check out a repository at a ref and hand the build
/// context to artifact-service, as a run.
struct CheckoutRoutes {
    let checkout: ContextCheckout
    let artifacts: ArtifactServiceClient
    let executor: RunExecutor
    let store: RunStore

    static let path = "/v1/checkouts"

    struct Body: Codable, Sendable {
        var repository: String
        var ref: String
        var depth: Int?
        var submodules: Bool?
        var contextPath: String?
        var dockerfilePath: String?
        var jobID: UUID?

        enum CodingKeys: String, CodingKey {
            case repository, ref, depth, submodules
            case contextPath = "context_path"
            case dockerfilePath = "dockerfile_path"
            case jobID = "job_id"
        }

        var request: CheckoutRequest {
            CheckoutRequest(
                repository: repository, ref: ref, depth: depth, submodules: submodules ?? false,
                contextPath: contextPath ?? ".", dockerfilePath: dockerfilePath ?? "Dockerfile")
        }
    }

    struct Outcome: Codable, Sendable {
        var repository: String
        var commit: String
        var context: ArtifactRef
        var dockerfile: String
        var dockerfilePath: String
        var mirror: String
        var timingsMs: [String: Int64]

        enum CodingKeys: String, CodingKey {
            case repository, commit, context, dockerfile, mirror
            case dockerfilePath = "dockerfile_path"
            case timingsMs = "timings_ms"
        }
    }

    func register(on router: Router<ServiceRequestContext>) {
        router.post(RouterPath(Self.path)) { request, context in
            let body = try await request.decodeJSON(as: Body.self, context: context)
            do {
                _ = try checkout.configuration.policy.validate(body.request)
            } catch let error as CheckoutError {
                throw ServiceError.badRequest(error.description, code: "INVALID_CHECKOUT")
            }
            let run = try await executor.start(
                kind: "checkout", jobID: body.jobID, leaseToken: try RunRoutes<ServiceRequestContext>.leaseToken(of: request),
                request: body
            ) { log in
                try await perform(body, log: log)
            }
            return try RunRoutes<ServiceRequestContext>.accepted(run, path: Self.path)
        }
        RunRoutes<ServiceRequestContext>(
            path: Self.path, service: "checkout-service", kind: "checkout", store: store, executor: executor
        ).register(on: router)
    }

    private func perform(_ body: Body, log: RunLog) async throws -> Outcome {
        let (lines, sink) = AsyncStream<CheckoutEvent>.makeStream()
        let recorder = Task {
            for await event in lines { await log.line(event.message, stream: event.stage.rawValue) }
        }
        let result: CheckoutResult
        do {
            result = try await checkout.run(body.request) { sink.yield($0) }
            sink.finish()
            await recorder.value
        } catch let error as CheckoutError {
            sink.finish()
            await recorder.value
            throw Self.failure(error)
        }
        defer { try? FileManager.default.removeItem(atPath: result.context.path) }
        // The same job writes the same key, so a retried stage replaces its context.
        let owner = (body.jobID ?? log.runID).uuidString.lowercased()
        let uploadStarted = ContinuousClock.now
        await log.line("uploading the context (\(result.context.size) bytes)")
        let stored = try await artifacts.upload(
            file: result.context.path, as: "contexts/\(owner).tar.gz", sha256: result.context.sha256,
            contentType: "application/gzip", jobID: body.jobID)
        let upload = ContinuousClock.now - uploadStarted
        await log.line("commit \(result.commit), context \(stored.key)")
        return Outcome(
            repository: result.repository, commit: result.commit, context: stored, dockerfile: result.dockerfile,
            dockerfilePath: result.dockerfilePath, mirror: result.mirror.rawValue,
            timingsMs: [
                "fetch": result.timings.fetch.wholeMilliseconds, "checkout": result.timings.checkout.wholeMilliseconds,
                "pack": result.timings.pack.wholeMilliseconds, "upload": upload.wholeMilliseconds,
                "total": (result.timings.total + upload).wholeMilliseconds,
            ])
    }

    /// The code of what failed at the bottom (a submodule's own failure); the message names
    /// the submodule too. Only network failures and timeouts are worth another try.
    static func failure(_ error: CheckoutError) -> RunFailure {
        let code =
            switch error.cause {
            case .invalidRequest: "INVALID_CHECKOUT"
            case .refNotFound: "REF_NOT_FOUND"
            case .authenticationFailed: "GIT_AUTH"
            case .repositoryNotFound: "REPOSITORY_NOT_FOUND"
            case .pathNotFound: "PATH_NOT_FOUND"
            case .pathOutsideRepository: "PATH_OUTSIDE_REPOSITORY"
            case .invalidDockerignore: "DOCKERIGNORE_INVALID"
            case .gitFailed, .submodule: "GIT_FAILED"
            case .timedOut: "TIMEOUT"
            case .packingFailed: "PACK_FAILED"
            case .storageFailed: "STORE_UNAVAILABLE"
            }
        return RunFailure(code: code, message: error.description, retryable: error.isTransient)
    }
}
