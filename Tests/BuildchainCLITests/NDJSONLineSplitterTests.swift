import Testing

@testable import BuildchainCLI

@Suite struct NDJSONLineSplitterTests {
    static let stream = Array("{\"seq\":1}\n{\"seq\":2,\"message\":\"ünïcode\"}\r\n\n{\"seq\":3}\n".utf8)

    @Test(arguments: [1, 2, 3, 7, 16, 1000])
    func linesSurviveAnyChunkBoundaries(chunkSize: Int) {
        var splitter = NDJSONLineSplitter()
        var lines: [String] = []
        for start in stride(from: 0, to: Self.stream.count, by: chunkSize) {
            let chunk = Self.stream[start..<min(start + chunkSize, Self.stream.count)]
            lines += splitter.append(chunk).map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(lines == ["{\"seq\":1}", "{\"seq\":2,\"message\":\"ünïcode\"}", "{\"seq\":3}"])
        #expect(splitter.finish() == nil)
    }

    @Test func holdsAPartialLineUntilItsNewline() {
        var splitter = NDJSONLineSplitter()
        #expect(splitter.append(Array("{\"seq\":".utf8)).isEmpty)
        #expect(splitter.append(Array("4}\n{\"se".utf8)) == [Array("{\"seq\":4}".utf8)])
        #expect(splitter.finish() == Array("{\"se".utf8))
        #expect(splitter.finish() == nil)
    }
}
