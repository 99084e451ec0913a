@testable import Orchestration
import Testing

@Suite struct NDJSONLinesTests {
    @Test func linesAreCutAtNewlinesWhateverTheChunks() {
        let text = Array(#"{"seq":1}"# .utf8) + [10] + Array(#"{"seq":2}"#.utf8) + [10, 10] + Array(#"{"seq":3}"#.utf8)
        for size in 1...text.count {
            var lines = NDJSONLines()
            var got: [String] = []
            var start = 0
            while start < text.count {
                let chunk = text[start..<min(start + size, text.count)]
                got += lines.append(chunk).map { String(decoding: $0, as: UTF8.self) }
                start += size
            }
            // The last line has no newline yet: it waits for one.
            #expect(got == [#"{"seq":1}"#, #"{"seq":2}"#], "chunk size \(size)")
        }
    }
}
