import CheckoutAPI
import Foundation
import GitCheckout
import HTTPTypes
import Hummingbird
import OpenAPIRuntime
import Records
import ServiceKit
import StageClients
import StageRuns

typealias CheckoutBody = Operations.StartCheckout.Input.Body.JsonPayload

/// checkout-service's operations of openapi/checkout.yaml: `POST /v1/checkouts` checks out a
/// repository at a ref and hands the build context to artifact-service, as a run.
struct CheckoutHandlers: APIProtocol {
    let checkout: ContextCheckout
    let artifacts: ArtifactServiceClient
    /// `/v1/checkouts`.
    let runs: RunResource

    func startCheckout(_ input: Operations.StartCheckout.Input) async throws -> Operations.StartCheckout.Output {
        guard case .json(let body) = input.body else { throw ServiceError.badRequest("expected a JSON body") }
        let jobID = try body.jobId.map(Self.uuid)
        do {
            _ = try checkout.configuration.policy.validate(body.request)
        } catch {
            throw ServiceError.badRequest(error.description, code: "INVALID_CHECKOUT")
        }
        let run = try await runs.start(jobID: jobID, leaseToken: input.headers.buildchainLeaseToken, request: body) { log in
            try await perform(body, jobID: jobID, log: log)
        }
        return .accepted(
            .init(headers: .init(location: runs.location(of: run)), body: .json(try RunBody(run, path: runs.path).typed())))
    }

    func getCheckout(_ input: Operations.GetCheckout.Input) async throws -> Operations.GetCheckout.Output {
        .ok(.init(body: .json(try await runs.body(input.path.id).typed())))
    }

    func cancelCheckout(_ input: Operations.CancelCheckout.Input) async throws -> Operations.CancelCheckout.Output {
        .accepted(.init(body: .json(try await runs.cancel(input.path.id).typed())))
    }

    func getCheckoutEvents(_ input: Operations.GetCheckoutEvents.Input) async throws -> Operations.GetCheckoutEvents.Output {
        try await runs.events(input.path.id, after: input.query.after, accepting: input.headers.accept) { body, sse in
            .ok(.init(body: sse ? .textEventStream(body) : .applicationXNdjson(body)))
        }
    }

    static func uuid(_ text: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else {
            throw ServiceError.badRequest("job_id: expected a UUID", code: "INVALID_JSON")
        }
        return id
    }

    private func perform(_ body: CheckoutBody, jobID: UUID?, log: RunLog) async throws -> Components.Schemas.CheckoutResult {
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
        let owner = (jobID ?? log.runID).uuidString.lowercased()
        let uploadStarted = ContinuousClock.now
        await log.line("uploading the context (\(result.context.size) bytes)")
        let stored = try await artifacts.upload(
            file: result.context.path, as: "contexts/\(owner).tar.gz", sha256: result.context.sha256,
            contentType: "application/gzip", jobID: jobID)
        let upload = ContinuousClock.now - uploadStarted
        await log.line("commit \(result.commit), context \(stored.key)")
        return .init(
            repository: result.repository, commit: result.commit,
            context: .init(key: stored.key, size: stored.size, sha256: stored.sha256), dockerfile: result.dockerfile,
            dockerfilePath: result.dockerfilePath, mirror: Self.mirror(result.mirror),
            timingsMs: .init(
                fetch: result.timings.fetch.wholeMilliseconds, checkout: result.timings.checkout.wholeMilliseconds,
                pack: result.timings.pack.wholeMilliseconds, upload: upload.wholeMilliseconds,
                total: (result.timings.total + upload).wholeMilliseconds))
    }

    /// The spec's name of how the mirror served (a switch, so a new case does not compile unnamed).
    static func mirror(_ outcome: MirrorOutcome) -> Components.Schemas.CheckoutResult.MirrorPayload {
        switch outcome {
        case .created: .created
        case .fetched: .fetched
        case .reusedWithoutFetch: .reusedWithoutFetch
        }
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

extension CheckoutBody {
    var request: CheckoutRequest {
        CheckoutRequest(
            repository: repository, ref: ref, depth: depth, submodules: submodules ?? false,
            contextPath: contextPath ?? ".", dockerfilePath: dockerfilePath ?? "Dockerfile")
    }
}
