import Foundation
import GatewayAPI
import HTTPTypes
import OpenAPIRuntime
import Records
import RequestValidation
import ServiceKit

extension Components.Schemas.Job {
    /// A recorded job as the contract shows it, built member by member from the record (the
    /// request redacted, the results parsed): reading a written body back with `JSONDecoder`
    /// made a status read's body eight times dearer. A job error's `stage: null` is left out:
    /// the generated encoder writes no `null`. `written`: the request `job.request` was encoded
    /// from (a submit's), shown as it is when redaction leaves the record as it was, instead of
    /// decoding the record back (a tenth of a submit's CPU).
    init(_ job: Job, stages: [JobStage], written: Components.Schemas.BuildRequest? = nil) throws {
        let id = job.id.uuidString.lowercased()
        let recorded = try JSONNode(parsing: job.request)
        let readable = JobRecordReading.readable(recorded)
        let request: Components.Schemas.BuildRequest
        if let written, readable == recorded {
            request = written
        } else {
            var text = JSONTextWriter()
            try text.value(readable)
            request = try contractDecoder.decode(Components.Schemas.BuildRequest.self, from: Data(text.bytes))
        }
        self.init(
            id: id, workload: job.workload, service: job.service,
            state: try known(Components.Schemas.JobState(rawValue: job.state.rawValue), job.state.rawValue),
            attempt: job.attempt,
            request: request,
            result: try job.result.map(decoded),
            error: try job.error.map { try Components.Schemas.JobError(parsed: JSONNode(parsing: $0)) ?? decoded($0) },
            reusedFrom: job.reusedFrom?.uuidString.lowercased(), buildKey: job.buildKey,
            cancelRequested: job.cancelRequested, createdAt: job.createdAt, startedAt: job.startedAt,
            finishedAt: job.finishedAt, durationMs: JobRecordReading.milliseconds(from: job.startedAt, to: job.finishedAt),
            stages: try stages.map { stage in
                Components.Schemas.Stage(
                    name: try known(.init(rawValue: stage.name.rawValue), stage.name.rawValue),
                    status: try known(.init(rawValue: stage.status.rawValue), stage.status.rawValue),
                    attempt: stage.attempt, runId: stage.runID?.uuidString.lowercased(), startedAt: stage.startedAt,
                    finishedAt: stage.finishedAt,
                    durationMs: JobRecordReading.milliseconds(from: stage.startedAt, to: stage.finishedAt),
                    result: try stage.result.map { try OpenAPIValueContainer(JSONNode(parsing: $0)) },
                    error: try stage.error.map(decoded))
            },
            links: .init(
                _self: "/v1/jobs/\(id)", events: "/v1/jobs/\(id)/events", cancel: "/v1/jobs/\(id)/cancel",
                retry: "/v1/jobs/\(id)/retry"))
    }
}

private let contractDecoder = JSONDecoder()

/// A recorded JSON document (a job's result or error, a stage's error) as its generated type.
private func decoded<T: Decodable>(_ text: String) throws -> T {
    try contractDecoder.decode(T.self, from: Data(text.utf8))
}

/// A recorded state or name the spec's enum has (the records and the spec name the same ones).
private func known<T>(_ value: T?, _ text: String) throws -> T {
    guard let value else {
        throw ServiceError(.internalServerError, code: "INTERNAL", detail: "a recorded job holds \(text), unknown to the API")
    }
    return value
}

extension OpenAPIValueContainer {
    /// A parsed JSON value; numbers as `JSONTextWriter` writes them (integral ones below 1e15 as integers).
    init(_ node: JSONNode) throws {
        try self.init(unvalidatedValue: Self.value(of: node))
    }

    private static func value(of node: JSONNode) -> (any Sendable)? {
        switch node {
        case .null: nil
        case .bool(let flag): flag
        case .string(let text): text
        case .number(let number): number.rounded() == number && abs(number) < 1e15 ? Int(number) : number
        case .array(let elements): elements.map(value(of:))
        case .object(let members): members.mapValues(value(of:))
        }
    }
}
