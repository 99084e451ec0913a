import ArtifactAPI
import Foundation
import OCI
import OpenAPIRuntime
import Records
import ServiceKit
import StageRuns

typealias PushBody = Operations.StartPush.Input.Body.JsonPayload

extension ArtifactHandlers {
    /// Pushes a stored docker-archive tarball to a registry, as a run. Credentials come from
    /// the service's configuration only.
    func startPush(_ input: Operations.StartPush.Input) async throws -> Operations.StartPush.Output {
        guard case .json(let body) = input.body else { throw ServiceError.badRequest("expected a JSON body") }
        let jobID = try body.jobId.map { text in
            guard let id = UUID(uuidString: text) else {
                throw ServiceError.badRequest("job_id: expected a UUID", code: "INVALID_JSON")
            }
            return id
        }
        let key = try ArtifactKey(body.artifactKey)
        let destination = try OCIReference(requestField: "destination", body.destination, code: "INVALID_DESTINATION")
        guard try await index.find(key.value) != nil else {
            throw ServiceError.notFound("no artifact \(key)", code: "ARTIFACT_NOT_FOUND")
        }
        let push = PushRun(backend: backend, registry: registry)
        let run = try await pushes.start(jobID: jobID, leaseToken: input.headers.buildchainLeaseToken, request: body) { log in
            try await push.perform(key, to: destination, log: log)
        }
        return .accepted(
            .init(headers: .init(location: pushes.location(of: run)), body: .json(try RunBody(run, path: pushes.path).typed())))
    }

    func getPush(_ input: Operations.GetPush.Input) async throws -> Operations.GetPush.Output {
        .ok(.init(body: .json(try await pushes.body(input.path.id).typed())))
    }

    func cancelPush(_ input: Operations.CancelPush.Input) async throws -> Operations.CancelPush.Output {
        .accepted(.init(body: .json(try await pushes.cancel(input.path.id).typed())))
    }

    func getPushEvents(_ input: Operations.GetPushEvents.Input) async throws -> Operations.GetPushEvents.Output {
        try await pushes.events(input.path.id, after: input.query.after, accepting: input.headers.accept) { body, sse in
            .ok(.init(body: sse ? .textEventStream(body) : .applicationXNdjson(body)))
        }
    }
}
