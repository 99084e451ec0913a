import Foundation
import Hummingbird
import Records
import ServiceKit

extension JobStore {
    /// The job named by the route's `{id}`: 400 `INVALID_ID` when it is not a UUID, 404 when unknown.
    func job(in context: ServiceRequestContext) async throws -> Job {
        let (id, text) = try Self.jobID(in: context)
        guard let job = try await job(id) else { throw ServiceError.notFound("no job \(text)") }
        return job
    }

    /// `job(in:)` with its stages, in one statement.
    func jobWithStages(in context: ServiceRequestContext) async throws -> JobWithStages {
        let (id, text) = try Self.jobID(in: context)
        guard let read = try await jobWithStages(id) else { throw ServiceError.notFound("no job \(text)") }
        return read
    }

    /// The route's `{id}` as a UUID, and as given.
    private static func jobID(in context: ServiceRequestContext) throws -> (UUID, String) {
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else {
            throw ServiceError.badRequest("the job id must be a UUID", code: "INVALID_ID")
        }
        return (id, text)
    }
}
