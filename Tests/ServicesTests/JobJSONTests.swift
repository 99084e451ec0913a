import Foundation
import GatewayAPI
import OpenAPIRuntime
import ServiceKit
import Testing

@testable import Gateway

/// `JobJSON` writes a job byte for byte as the generated server's `JSONEncoder` does, on
/// random jobs: every optional member present or not, texts with quotes, backslashes,
/// slashes, every control character, non-ASCII and keys that sort differently by UTF-8 and
/// by UTF-16, dates with fractions and outside the years the hand-written dates cover.
@Suite struct JobJSONTests {
    @Test func randomJobsAreWrittenAsTheGeneratedEncoderWritesThem() throws {
        var written = 0
        for _ in 0..<2_000 {
            let job = Self.job()
            let expected = try JobJSON.encoder.encode(job)
            let json = try #require(try JobJSON.encode(job))
            #expect(json == Array(expected), "\(String(decoding: expected, as: UTF8.self))")
            // The request as the submit recorded it (`JobSubmission` encodes it with
            // `JSONResponse`'s encoder) is spliced in unchanged: the same bytes again.
            let recorded = RecordedRequest(
                value: job.request,
                json: String(decoding: try JSONResponse<BuildJobRequest>.encoder.encode(job.request), as: UTF8.self))
            #expect(try JobJSON.encode(job, recorded: recorded) == Array(expected))
            written += 1
        }
        #expect(written == 2_000)
    }

    /// The text a job records (`BuildRequestJSON`) is the one `JSONResponse`'s encoder wrote.
    @Test func randomRequestsAreWrittenAsTheEncoderWritesThem() throws {
        for _ in 0..<2_000 {
            let request = Self.request()
            let expected = String(decoding: try JSONResponse<BuildJobRequest>.encoder.encode(request), as: UTF8.self)
            #expect(BuildRequestJSON.text(of: request) == expected)
        }
    }

    @Test func aRecordedRequestOtherThanTheJobsIsNotSpliced() throws {
        let job = Self.job()
        var other = job.request
        other.workload += "x"
        let stale = RecordedRequest(value: other, json: #"{"workload":"stale"}"#)
        #expect(try JobJSON.encode(job, recorded: stale) == Array(try JobJSON.encoder.encode(job)))
    }

    @Test func jobsWithResultsAreLeftToTheEncoder() throws {
        var job = Self.job()
        job.result = .init(
            commit: "abc", image: .init(key: "images/a.tar", size: 1, sha256: String(repeating: "0", count: 64)))
        #expect(try JobJSON.encode(job) == nil)
        job = Self.job()
        job.stages.append(.init(name: .build, status: .failed, attempt: 1, error: .init(code: "X", message: "m", retryable: false)))
        #expect(try JobJSON.encode(job) == nil)
        job = Self.job()
        job.stages.append(
            .init(name: .checkout, status: .succeeded, attempt: 1, result: try OpenAPIValueContainer(unvalidatedValue: ["commit": "abc"])))
        #expect(try JobJSON.encode(job) == nil)
    }

    // MARK: - random jobs

    private static let pieces = [
        "a", "Z", "0", "_", "-", " ", "\"", "\\", "/", "é", "ß", "中", "😀", "\u{7F}", "\u{2028}", "\u{FEFF}", "\u{FF61}",
        "\u{10000}",
    ] + (0..<0x20).map { String(UnicodeScalar(UInt8($0))) }

    private static func text(maxLength: Int = 12) -> String {
        (0..<Int.random(in: 0...maxLength)).map { _ in pieces.randomElement()! }.joined()
    }

    private static func maybe<T>(_ value: @autoclosure () -> T) -> T? {
        Bool.random() ? value() : nil
    }

    private static func date() -> Date {
        switch Int.random(in: 0..<4) {
        case 0: Date(timeIntervalSince1970: Double(Int.random(in: 0...4_102_444_800)))
        case 1: Date(timeIntervalSince1970: Double.random(in: 0...4_102_444_800))
        case 2: Date(timeIntervalSince1970: Double.random(in: -15_000_000_000 ... -12_300_000_000))
        default: Date(timeIntervalSince1970: Double.random(in: 253_402_300_000...253_500_000_000))
        }
    }

    private static func map() -> [String: String] {
        var map: [String: String] = [:]
        for _ in 0..<Int.random(in: 0...4) {
            map[text(maxLength: 4)] = text()
        }
        return map
    }

    private static func request() -> Components.Schemas.BuildRequest {
        .init(
            workload: text(), service: text(),
            repository: .init(url: text(), ref: text()),
            contextPath: maybe(text()),
            dockerfilePath: maybe(text()), target: maybe(text()),
            buildArgs: maybe(.init(additionalProperties: map())),
            secretBuildArgs: maybe(.init(additionalProperties: map())),
            secrets: maybe(.init(additionalProperties: map())),
            cache: maybe(Bool.random()), mirrors: maybe(Bool.random()),
            fresh: maybe(Bool.random()), dryRun: maybe(Bool.random()),
            push: maybe(.init(destination: text())))
    }

    private static func stage() -> Components.Schemas.Stage {
        .init(
            name: [.checkout, .rewrite, .build, .push].randomElement()!,
            status: [.pending, .running, .succeeded, .failed, .cancelled].randomElement()!,
            attempt: Int.random(in: 0...Int.max), runId: maybe(text()),
            startedAt: maybe(date()), finishedAt: maybe(date()),
            durationMs: maybe(Int.random(in: Int.min...Int.max)))
    }

    private static func job() -> Components.Schemas.Job {
        let stages = (0..<Int.random(in: 0...4)).map { _ in stage() }
        return .init(
            id: text(), workload: text(), service: text(),
            state: [.queued, .running, .succeeded, .failed, .cancelled].randomElement()!,
            attempt: Int.random(in: Int.min...Int.max), request: request(),
            error: maybe(
                .init(
                    code: text(), message: text(), retryable: Bool.random(),
                    stage: maybe([.checkout, .rewrite, .build, .push, ._empty_].randomElement()!))),
            reusedFrom: maybe(text()), buildKey: maybe(text()),
            cancelRequested: maybe(Bool.random()), createdAt: date(),
            startedAt: maybe(date()), finishedAt: maybe(date()),
            durationMs: maybe(Int.random(in: Int.min...Int.max)), stages: stages,
            links: .init(
                _self: maybe(text()), events: maybe(text()),
                cancel: maybe(text()), retry: maybe(text())))
    }
}
