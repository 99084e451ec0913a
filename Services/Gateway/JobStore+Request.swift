import Foundation
import Records
import ServiceKit

extension JobStore {
    /// The job a request's `{id}` names: 400 `INVALID_ID` when it is not a UUID, 404 when unknown.
    func job(named text: String) async throws -> Job {
        guard let job = try await job(try Self.jobID(text)) else { throw ServiceError.notFound("no job \(text)") }
        return job
    }

    /// `job(named:)` with its stages, in one statement.
    func jobWithStages(named text: String) async throws -> JobWithStages {
        guard let read = try await jobWithStages(try Self.jobID(text)) else { throw ServiceError.notFound("no job \(text)") }
        return read
    }

    private static func jobID(_ text: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else {
            throw ServiceError.badRequest("the job id must be a UUID", code: "INVALID_ID")
        }
        return id
    }
}
