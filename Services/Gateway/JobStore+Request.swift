import Foundation
import Hummingbird
import Records
import ServiceKit

extension JobStore {
    /// The job named by the route's `{id}`: 400 `INVALID_ID` when it is not a UUID, 404 when unknown.
    func job(in context: ServiceRequestContext) async throws -> Job {
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else {
            throw ServiceError.badRequest("the job id must be a UUID", code: "INVALID_ID")
        }
        guard let job = try await job(id) else { throw ServiceError.notFound("no job \(text)") }
        return job
    }
}
