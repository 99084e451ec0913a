import Foundation
import Testing

@testable import ServiceKit

@Suite struct VerbatimResponseHeadersTests {
    /// The byte decoder answers what Foundation's `removingPercentEncoding` answers, nil
    /// included: random texts of escapes (valid, short, non-hex, of non-UTF-8 bytes) and plain text.
    @Test func decodesAsFoundationDoes() {
        let pieces = ["%2F", "%22", "%20", "%25", "%C3%A9", "%C3", "%FF", "%e2%82%ac", "%", "%4", "%zz", "/", "a", "é", " ", "\"", "0-9"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let value = (0..<Int.random(in: 0...8, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }
                .joined()
            #expect(VerbatimResponseHeaders.percentDecoded(value) == value.removingPercentEncoding, "\(value.debugDescription)")
        }
    }

    @Test func decodesWhatTheGeneratedServerWrites() {
        #expect(VerbatimResponseHeaders.percentDecoded("%2Fv1%2Fjobs%2Fab") == "/v1/jobs/ab")
        #expect(VerbatimResponseHeaders.percentDecoded("bytes%200-9%2F10") == "bytes 0-9/10")
        #expect(VerbatimResponseHeaders.percentDecoded("%22etag%22") == "\"etag\"")
        #expect(VerbatimResponseHeaders.percentDecoded("plain") == "plain")
    }
}
