import Foundation
import GatewayAPI
import OpenAPIRuntime
import Testing

@testable import BuildchainCLI

/// How the CLI reads the gateway's error answers and its event stream.
@Suite struct GatewayAnswerTests {
    @Test func aProblemShowsItsCodeAndDetail() {
        let body = #"{"type": "about:blank", "title": "Bad Request", "status": 400, "code": "INVALID_BUILD", "detail": "workload must match"}"#
        let error = GatewayFailure.error(status: 400, body: Array(body.utf8))
        #expect(error.message == "INVALID_BUILD: workload must match (HTTP 400)")
        #expect(error.exitStatus == 3 && !error.isTransient)
    }

    @Test func anUnauthorizedAnswerPointsAtTheToken() {
        let body = #"{"type": "about:blank", "title": "Unauthorized", "status": 401, "code": "UNAUTHORIZED"}"#
        let error = GatewayFailure.error(status: 401, body: Array(body.utf8))
        #expect(error.message == "UNAUTHORIZED: Unauthorized (is BUILDCHAIN_TOKEN set to a valid token?) (HTTP 401)")
    }

    @Test func aBodyThatIsNoProblemIsQuoted() {
        let error = GatewayFailure.error(status: 502, body: Array("<html>bad gateway</html>\n".utf8))
        #expect(error.message == "HTTP_502: <html>bad gateway</html> (HTTP 502)")
        #expect(error.isTransient)
    }

    @Test func eventsAreReadFromServerSentEventsWithTheirJSON() async throws {
        let first = #"{"at":"2025-03-04T15:06:07Z","kind":"state","message":"queued","seq":1}"#
        let second = #"{"at":"2025-03-04T15:06:08Z","kind":"log","message":"a line","seq":2,"stage":"build","stream":"run"}"#
        let stream = "id: 1\ndata: \(first)\n\n: a comment\n\nid: 2\ndata: \(second)\n\ndata: not an event\n\n"
        var received: [ReceivedEvent] = []
        try await EventStream.read(HTTPBody(stream)) { event in
            received.append(event)
            return true
        }
        #expect(received.map(\.event.seq) == [1, 2])
        #expect(received.map { String(decoding: $0.line, as: UTF8.self) } == [first, second])
        #expect(EventLines.log(received[1].event) == ["  build | a line"])
    }

    @Test func readingStopsWhenTheStreamStaysQuiet() async throws {
        let (chunks, continuation) = AsyncThrowingStream<ArraySlice<UInt8>, any Error>.makeStream()
        continuation.yield(ArraySlice(#"data: {"at":"2025-03-04T15:06:07Z","kind":"log","message":"x","seq":1}"#.utf8 + [10, 10]))
        let started = ContinuousClock.now
        var seqs: [Int] = []
        try await EventStream.read(HTTPBody(chunks, length: .unknown, iterationBehavior: .single), quietLimit: .milliseconds(300)) {
            seqs.append($0.event.seq)
            return true
        }
        #expect(seqs == [1])
        #expect(ContinuousClock.now - started < .seconds(5), "the open stream was given up after its quiet limit")
        continuation.finish()
    }
}
