import Foundation
import Logging
import Testing

@testable import ServiceKit

@Suite struct JSONLogHandlerTests {
    /// The hand-written timestamp reads as the ISO 8601 format style wrote it, around leap days,
    /// year ends and the epoch.
    @Test(arguments: [0, 951_782_400, 1_709_164_799, 1_735_689_599, 1_798_761_600, 4_102_444_799, 1_796_433_816])
    func timestampIsISO8601ToTheMillisecond(seconds: Int) {
        for milliseconds in [0, 7, 80, 999] {
            let date = Date(timeIntervalSince1970: Double(seconds) + Double(milliseconds) / 1000 + 0.0004)
            let expected = date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
            #expect(JSONLogHandler.timestamp(seconds: seconds, milliseconds: milliseconds) == expected)
        }
    }

    /// The event's metadata overrides the provider's, which overrides the logger's; the line's
    /// own four members override them all; keys are sorted and values escaped.
    @Test func lineMergesMetadataInOrderAndSortsKeys() throws {
        var handler = JSONLogHandler(
            label: "svc", level: .info, metadataProvider: .init { ["provided": "p", "shared": "provider"] })
        handler.metadata = ["shared": "logger", "own": "o", "msg": "not the message"]
        let event = LogEvent(
            level: .warning, message: "said \"so\"", metadata: ["shared": "event", "nested": ["b": "1", "a": ["x"]]],
            source: nil, file: "", function: "", line: 0)
        let line = handler.line(for: event, at: "2026-12-05T01:23:36.807")
        #expect(line.last == UInt8(ascii: "\n"))
        let text = String(decoding: line.dropLast(), as: UTF8.self)
        #expect(
            text == #"{"level":"warning","logger":"svc","msg":"said \"so\"","nested":{"a":["x"],"b":"1"},"own":"o","#
                + #""provided":"p","shared":"event","ts":"2026-12-05T01:23:36.807"}"#)
        #expect(try JSONSerialization.jsonObject(with: Data(line)) is [String: Any])
    }
}
