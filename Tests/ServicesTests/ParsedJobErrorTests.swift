import Foundation
import GatewayAPI
import RequestValidation
import Testing

@testable import Gateway

/// `JobError(parsed:)` reads a recorded job error as `JSONDecoder` decodes it, on random
/// documents: members missing, unknown, `null` or of another type, stages known or not.
@Suite struct ParsedJobErrorTests {
    @Test func randomErrorsAreReadAsTheDecoderReadsThem() throws {
        var readByHand = 0, leftToDecoder = 0
        for _ in 0..<3_000 {
            var error: [String: Any] = [:]
            for (name, value) in [
                ("code", Self.choose(["BUILD_FAILED", "", "é\n\"x\""])), ("message", Self.choose(["m", "line 1\nline 2", "😀"])),
                ("retryable", Self.choose([true, false])),
                ("stage", Self.choose(["checkout", "rewrite", "build", "push", "", "deploy", NSNull()])),
                ("extra", Self.choose(["x", 1])),
            ] where Int.random(in: 0..<8) > 0 || name == "extra" && Bool.random() {
                error[name] = Int.random(in: 0..<10) == 0 ? Self.choose([NSNull(), 1, "x", true, ["a": 1]]) : value
            }
            let bytes = try JSONSerialization.data(withJSONObject: error)
            let decoded = try? JSONDecoder().decode(Components.Schemas.JobError.self, from: bytes)
            if let read = Components.Schemas.JobError(parsed: try JSONNode(parsing: String(decoding: bytes, as: UTF8.self))) {
                #expect(read == decoded, "\(String(decoding: bytes, as: UTF8.self))")
                readByHand += 1
            } else {
                #expect(decoded == nil, "the decoder reads \(String(decoding: bytes, as: UTF8.self))")
                leftToDecoder += 1
            }
        }
        #expect(readByHand > 500 && leftToDecoder > 500, "\(readByHand) read by hand, \(leftToDecoder) left")
    }

    private static func choose(_ values: [Any]) -> Any { values.randomElement()! }
}
