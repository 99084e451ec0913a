import Foundation
import GatewayAPI
import HTTPTypes
import OpenAPIRuntime
import Records
import RequestValidation
import ServiceKit

extension Components.Schemas.Job {
    /// A recorded job as the contract shows it: `JobBody`'s reading of the record (the request
    /// redacted, the results parsed) in the generated types, built member by member: reading
    /// `JobBody.jsonText()` back with `JSONDecoder` made a status read's body eight times dearer.
    /// A job error's `stage: null` is left out: the generated encoder writes no `null`.
    init(_ job: Job, stages: [JobStage]) throws {
        let body = try JobBody(job, stages: stages)
        var request = JSONTextWriter()
        try request.value(body.request)
        self.init(
            id: body.id, workload: body.workload, service: body.service,
            state: try known(Components.Schemas.JobState(rawValue: body.state), body.state),
            attempt: body.attempt, request: try contractDecoder.decode(Components.Schemas.BuildRequest.self, from: Data(request.bytes)),
            result: try job.result.map(decoded), error: try job.error.map(decoded), reusedFrom: body.reusedFrom,
            buildKey: body.buildKey, cancelRequested: body.cancelRequested, createdAt: body.createdAt, startedAt: body.startedAt,
            finishedAt: body.finishedAt, durationMs: body.durationMs.map(Int.init),
            stages: try zip(body.stages, stages).map { stage, record in
                Components.Schemas.Stage(
                    name: try known(.init(rawValue: stage.name), stage.name),
                    status: try known(.init(rawValue: stage.status), stage.status), attempt: stage.attempt, runId: stage.runID,
                    startedAt: stage.startedAt, finishedAt: stage.finishedAt, durationMs: stage.durationMs.map(Int.init),
                    result: try stage.result.map(OpenAPIValueContainer.init), error: try record.error.map(decoded))
            },
            links: .init(
                _self: body.links["self"], events: body.links["events"], cancel: body.links["cancel"],
                retry: body.links["retry"]))
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
