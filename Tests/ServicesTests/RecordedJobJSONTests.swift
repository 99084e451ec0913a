import Foundation
import GatewayAPI
import ServiceKit
import Testing

@testable import Gateway
@testable import Records

/// The job the handlers answer (the generated `Components.Schemas.Job`, built from the record)
/// encodes to the bytes the gateway answered before it served the generated types (pinned
/// below as its hand-written `JobBody` encoded them).
@Suite struct RecordedJobJSONTests {
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
        try expect(job, stages, toEncodeAs: #"{"attempt":2,"build_key":"sha256:abc","cancel_requested":true,"created_at":"2025-12-03T14:40:24Z","duration_ms":75000,"error":{"code":"BUILD_FAILED","message":"line 1\nline 2","retryable":false,"stage":"build"},"finished_at":"2025-12-03T14:41:40Z","id":"3f2b8a1c-9d4e-4f60-8a7b-1c2d3e4f5a6b","links":{"cancel":"/v1/jobs/3f2b8a1c-9d4e-4f60-8a7b-1c2d3e4f5a6b/cancel","events":"/v1/jobs/3f2b8a1c-9d4e-4f60-8a7b-1c2d3e4f5a6b/events","retry":"/v1/jobs/3f2b8a1c-9d4e-4f60-8a7b-1c2d3e4f5a6b/retry","self":"/v1/jobs/3f2b8a1c-9d4e-4f60-8a7b-1c2d3e4f5a6b"},"request":{"build_args":{"NODE_VERSION":"20"},"push":{"destination":"registry:5000/a/b:1"},"repository":{"ref":"main","url":"https://git.example.com/a.git"},"secret_build_args":{"TOKEN":"***"},"service":"api","workload":"shop"},"result":{"commit":"abc","image":{"key":"images/shop/api/x.tar","sha256":"00","size":123456789},"manifest_digest":"sha256:11","reference":"registry:5000/a/b:1"},"reused_from":"3f2b8a1c-9d4e-4f60-8a7b-1c2d3e4f5a6b","service":"api","stages":[{"attempt":1,"duration_ms":74500,"finished_at":"2025-12-03T14:41:39Z","name":"checkout","result":{"commit":"abc","files":20000,"note":"a/b \"c\"","ratio":0.75},"run_id":"3f2b8a1c-9d4e-4f60-8a7b-1c2d3e4f5a6b","started_at":"2025-12-03T14:40:25Z","status":"succeeded"},{"attempt":1,"duration_ms":74500,"error":{"code":"X","message":"m","retryable":true},"finished_at":"2025-12-03T14:41:39Z","name":"build","run_id":"3f2b8a1c-9d4e-4f60-8a7b-1c2d3e4f5a6b","started_at":"2025-12-03T14:40:25Z","status":"failed"},{"attempt":1,"name":"push","status":"pending"}],"started_at":"2025-12-03T14:40:25Z","state":"failed","workload":"shop"}"#)
        // Queued, its request's URL userinfo and secret-looking build args masked for readers.
        try expect(
            Self.job(
                request: #"{"workload":"shop","service":"api","repository":{"url":"https://user:pw@h.example/r.git","ref":"v1"},"build_args":{"API_KEY":"k","A_B":"x/y"},"cache":false}"#
            ), [Self.stage(.checkout, .pending), Self.stage(.rewrite, .pending), Self.stage(.build, .pending)],
            toEncodeAs: #"{"attempt":2,"cancel_requested":true,"created_at":"2025-12-03T14:40:24Z","id":"3f2b8a1c-9d4e-4f60-8a7b-1c2d3e4f5a6b","links":{"cancel":"/v1/jobs/3f2b8a1c-9d4e-4f60-8a7b-1c2d3e4f5a6b/cancel","events":"/v1/jobs/3f2b8a1c-9d4e-4f60-8a7b-1c2d3e4f5a6b/events","retry":"/v1/jobs/3f2b8a1c-9d4e-4f60-8a7b-1c2d3e4f5a6b/retry","self":"/v1/jobs/3f2b8a1c-9d4e-4f60-8a7b-1c2d3e4f5a6b"},"request":{"build_args":{"API_KEY":"***","A_B":"x/y"},"cache":false,"repository":{"ref":"v1","url":"https://***@h.example/r.git"},"service":"api","workload":"shop"},"service":"api","stages":[{"attempt":1,"name":"checkout","status":"pending"},{"attempt":1,"name":"rewrite","status":"pending"},{"attempt":1,"name":"build","status":"pending"}],"state":"failed","workload":"shop"}"#)
    }

    private func expect(_ job: Job, _ stages: [JobStage], toEncodeAs before: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let answered = try encoder.encode(try Components.Schemas.Job(job, stages: stages))
        #expect(String(decoding: answered, as: UTF8.self) == before)
    }
}
