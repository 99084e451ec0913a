import Foundation
import GatewayAPI
import ServiceKit
import Testing

@testable import Gateway
@testable import Records

/// The job the handlers answer (the generated `Components.Schemas.Job`, built from `JobBody`'s
/// reading of the record) encodes to the bytes the gateway answered before it served the
/// generated types: `JobBody` as `JSONResponse` encodes it.
@Suite struct JobBodyJSONTests {
    private static let id = UUID(uuidString: "3F2B8A1C-9D4E-4F60-8A7B-1C2D3E4F5A6B")!

    private static func job(
        request: String, result: String? = nil, error: String? = nil, startedAt: Date? = nil, finishedAt: Date? = nil,
        buildKey: String? = nil, reusedFrom: UUID? = nil
    ) -> Job {
        Job(
            id: id, workload: "shop", service: "api", state: .failed, request: request, result: result, error: error,
            attempt: 2, createdAt: Date(timeIntervalSince1970: 1_764_772_824.987_654), startedAt: startedAt,
            finishedAt: finishedAt, leaseOwner: nil, leaseExpiresAt: nil, buildKey: buildKey, reusedFrom: reusedFrom,
            cancelRequested: true, deadlineAt: nil)
    }

    private static func stage(_ name: StageName, _ status: StageStatus, result: String? = nil, error: String? = nil)
        -> JobStage
    {
        JobStage(
            jobID: id, position: 0, name: name, status: status, attempt: 1, runID: status == .pending ? nil : id,
            runEventsSeen: 0, startedAt: status == .pending ? nil : Date(timeIntervalSince1970: 1_764_772_825.5),
            finishedAt: status == .pending ? nil : Date(timeIntervalSince1970: 1_764_772_899.999_9), result: result,
            error: error)
    }

    @Test func aRecordedJobIsTheContractsJob() throws {
        let job = Self.job(
            request: #"{"workload":"shop","service":"api","repository":{"url":"https://git.example.com/a.git","ref":"main"},"build_args":{"NODE_VERSION":"20"},"secret_build_args":{"TOKEN":"***"},"push":{"destination":"registry:5000/a/b:1"}}"#,
            result: #"{"commit":"abc","image":{"key":"images/shop/api/x.tar","sha256":"00","size":123456789},"manifest_digest":"sha256:11","reference":"registry:5000/a/b:1"}"#,
            error: #"{"code":"BUILD_FAILED","message":"line 1\nline 2","retryable":false,"stage":"build"}"#,
            startedAt: Date(timeIntervalSince1970: 1_764_772_825.000_1), finishedAt: Date(timeIntervalSince1970: 1_764_772_900),
            buildKey: "sha256:abc", reusedFrom: Self.id)
        let stages = [
            Self.stage(.checkout, .succeeded, result: #"{"commit":"abc","files":20000,"ratio":0.75,"note":"a/b \"c\""}"#),
            Self.stage(.build, .failed, error: #"{"code":"X","message":"m","retryable":true}"#), Self.stage(.push, .pending),
        ]
        try expectTheSameBytes(job, stages)
        // Queued, its request's URL userinfo and secret-looking build args masked for readers.
        try expectTheSameBytes(
            Self.job(
                request: #"{"workload":"shop","service":"api","repository":{"url":"https://user:pw@h.example/r.git","ref":"v1"},"build_args":{"API_KEY":"k","A_B":"x/y"},"cache":false}"#
            ), [Self.stage(.checkout, .pending), Self.stage(.rewrite, .pending), Self.stage(.build, .pending)])
    }

    private func expectTheSameBytes(_ job: Job, _ stages: [JobStage]) throws {
        let before = try JSONResponse<JobBody>.encoder.encode(try JobBody(job, stages: stages))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let answered = try encoder.encode(try Components.Schemas.Job(job, stages: stages))
        #expect(String(decoding: answered, as: UTF8.self) == String(decoding: before, as: UTF8.self))
    }
}
