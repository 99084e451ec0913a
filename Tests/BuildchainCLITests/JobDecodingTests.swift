import ContractCoding
import Foundation
import GatewayAPI
import Testing

@testable import BuildchainCLI

@Suite struct JobDecodingTests {
    static let succeededJob = """
        {
          "id": "0b7f5a52-2f0e-4c2d-9a43-3d1c8e0f6a11", "workload": "shop", "service": "cart",
          "state": "succeeded", "attempt": 2, "future_field": {"anything": [1, 2]},
          "request": {"workload": "shop", "service": "cart", "repository": {"url": "https://git.example/shop.git", "ref": "main"},
                      "context_path": ".", "dockerfile_path": "Dockerfile", "push": {"destination": "reg/shop/cart:1"}},
          "created_at": "2025-03-04T15:06:07Z", "started_at": "2025-03-04T15:06:07.250Z",
          "finished_at": "2025-03-04T15:07:09.5+00:00", "duration_ms": 62250,
          "error": null, "reused_from": "9c2e1f00-0000-4000-8000-000000000001",
          "result": {"commit": "4f1c9e2", "image": {"key": "images/shop/cart/4f1c9e2.tar", "size": 12582912,
                     "sha256": "sha256:ab12"}, "manifest_digest": "sha256:cd34", "reference": "reg/shop/cart:1"},
          "stages": [
            {"name": "checkout", "status": "succeeded", "attempt": 1, "run_id": "11111111-1111-4111-8111-111111111111",
             "started_at": "2025-03-04T15:06:07.300Z", "finished_at": null, "duration_ms": 4100, "result": {"x": 1}, "error": null},
            {"name": "build", "status": "failed", "attempt": 2, "run_id": null, "started_at": null, "finished_at": null,
             "duration_ms": null, "result": null, "error": {"code": "BUILD_FAILED", "message": "step 3 failed",
             "retryable": false, "stage": "build"}}
          ],
          "links": {"self": "/v1/jobs/0b7f5a52", "events": "/v1/jobs/0b7f5a52/events"}
        }
        """

    /// As the generated client decodes the gateway's JSON (its date transcoder).
    func decode<Value: Decodable>(_ type: Value.Type, _ json: String) throws -> Value {
        try JSONDecoder.buildchain().decode(type, from: Data(json.utf8))
    }

    @Test func decodesAJobWithUnknownFieldsAndBothDateForms() throws {
        let job = try decode(Job.self, Self.succeededJob)
        #expect(job.id == "0b7f5a52-2f0e-4c2d-9a43-3d1c8e0f6a11")
        #expect(job.succeeded && job.hasEnded)
        #expect(job.attempt == 2)
        #expect(job.request.repository.ref == "main")
        #expect(job.request.push?.destination == "reg/shop/cart:1")
        let created = job.createdAt
        let started = try #require(job.startedAt)
        #expect(abs(started.timeIntervalSince(created) - 0.25) < 0.001)
        #expect(job.finishedAt != nil)
        #expect(job.durationMs == 62_250)
        #expect(job.result?.image.size == 12_582_912)
        #expect(job.result?.manifestDigest == "sha256:cd34")
        #expect(job.stages.map(\.name) == [.checkout, .build])
        #expect(job.stages[0].runId == "11111111-1111-4111-8111-111111111111")
        #expect(job.stages[1].error?.code == "BUILD_FAILED")
    }

    static let queuedJob = """
        {"id": "x", "workload": "w", "service": "s", "state": "queued", "attempt": 1,
         "request": {"workload": "w", "service": "s", "repository": {"url": "u", "ref": "r"}},
         "created_at": "2025-03-04T15:06:07Z", "stages": [], "links": {}}
        """

    @Test func decodesAQueuedJobWithoutResultOrError() throws {
        let job = try decode(Job.self, Self.queuedJob)
        #expect(!job.hasEnded)
        #expect(job.stages.isEmpty && job.result == nil && job.error == nil)
    }

    @Test func rejectsAJobWithoutStateOrWithAnUnknownOne() {
        #expect(throws: (any Error).self) { try decode(Job.self, Self.queuedJob.replacingOccurrences(of: #""state": "queued","#, with: "")) }
        #expect(throws: (any Error).self) { try decode(Job.self, Self.queuedJob.replacingOccurrences(of: "queued", with: "done")) }
    }

    @Test func decodesAPageAndItsCursor() throws {
        let page = try decode(JobPage.self, #"{"jobs": [\#(Self.queuedJob)], "next_cursor": "abc"}"#)
        #expect(page.jobs.count == 1)
        #expect(page.nextCursor == "abc")
    }

    @Test func decodesEvents() throws {
        let line =
            #"{"seq": 7, "at": "2025-03-04T15:06:19.3Z", "kind": "log", "stage": "build", "stream": "stdout", "message": "STEP 2/4: RUN make"}"#
        let event = try decode(JobEvent.self, line)
        #expect(event.seq == 7)
        #expect(!event.isStateChange)
        #expect(EventLines.log(event) == ["  build | STEP 2/4: RUN make"])
    }

    @Test func eventLinesShowStateChangesAndElapsedTime() throws {
        let start = try #require(ISO8601Dates.date(from: "2025-03-04T15:06:07Z"))
        let state = try decode(
            JobEvent.self, #"{"seq": 8, "at": "2025-03-04T15:06:19.3Z", "kind": "state", "stage": "build", "message": "running"}"#)
        #expect(EventLines.progress(state, since: start) == ["[  12.3s] build: running"])
        #expect(EventLines.log(state) == ["--- build: running"])
        let multiline = try decode(
            JobEvent.self, #"{"seq": 9, "at": "2025-03-04T15:06:20Z", "kind": "log", "stage": null, "message": "a\r\nb\n"}"#)
        #expect(EventLines.log(multiline) == ["  job | a", "  job | b"])
    }

    @Test func theReportShowsStagesResultsAndReuse() throws {
        let job = try decode(Job.self, Self.succeededJob)
        let report = JobReport.render(job)
        for expected in [
            "succeeded (attempt 2)", "https://git.example/shop.git @ main", "images/shop/cart/4f1c9e2.tar",
            "sha256:ab12", "12.0 MiB", "sha256:cd34", "reg/shop/cart:1", "reused from", "1m02s",
            "checkout  succeeded  attempt 1  4.1s  run 11111111-1111-4111-8111-111111111111",
            "BUILD_FAILED: step 3 failed",
        ] {
            #expect(report.contains(expected), "missing \(expected) in\n\(report)")
        }
    }
}
