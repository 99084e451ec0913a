import Testing

import HTTPClient

@Suite struct LineSplitterTests {
    static let stream = Array("{\"seq\":1}\n{\"seq\":2,\"message\":\"ünïcode\"}\r\n\n{\"seq\":3}\n".utf8)

    @Test(arguments: [1, 2, 3, 7, 16, 1000])
    func linesSurviveAnyChunkBoundaries(chunkSize: Int) {
        var splitter = LineSplitter()
        var lines: [String] = []
        for start in stride(from: 0, to: Self.stream.count, by: chunkSize) {
            let chunk = Self.stream[start..<min(start + chunkSize, Self.stream.count)]
            lines += splitter.append(chunk).map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(lines == ["{\"seq\":1}", "{\"seq\":2,\"message\":\"ünïcode\"}", "{\"seq\":3}"])
        #expect(splitter.finish() == nil)
    }

    @Test func holdsAPartialLineUntilItsNewline() {
        var splitter = LineSplitter()
        #expect(splitter.append(Array("{\"seq\":".utf8)).isEmpty)
        #expect(splitter.append(Array("4}\n{\"se".utf8)) == [Array("{\"seq\":4}".utf8)])
        #expect(splitter.finish() == Array("{\"se".utf8))
        #expect(splitter.finish() == nil)
    }

    @Test func linesAreCutAtNewlinesWhateverTheChunks() {
        let text = Array(#"{"seq":1}"# .utf8) + [10] + Array(#"{"seq":2}"#.utf8) + [10, 10] + Array(#"{"seq":3}"#.utf8)
        for size in 1...text.count {
            var lines = LineSplitter()
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

    @Test func aLogKeepsItsBlankLines() {
        var lines = LineSplitter(keepsEmptyLines: true)
        let got = lines.append(Array("a\n\nb\r\n".utf8)).map { String(decoding: $0, as: UTF8.self) }
        #expect(got == ["a", "", "b"])
        #expect(lines.finish() == nil)
    }
}
