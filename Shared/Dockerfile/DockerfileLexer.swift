/// Splits a Dockerfile into logical instructions exactly as BuildKit's parser does — parser
/// directives, line continuations (skipping comment and blank lines between continued lines),
/// heredoc bodies — while remembering where every byte of each logical line is in the source.
struct DockerfileLexer {
    /// The escape character (`\`, or `` ` `` after `# escape=```).
    private(set) var escape = UInt8(ascii: "\\")
    /// Offset of the first byte of each physical line (index 0 is line 1).
    private(set) var lineStarts: [Int] = []

    private let bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// A run of source bytes that forms part of a logical line.
    struct Segment {
        var logicalStart: Int
        var sourceStart: Int
        var length: Int
    }

    /// One instruction: its logical line (physical lines joined without the continuation
    /// characters), where each part of it came from, and its parsed syntax.
    struct Instruction {
        var startLine: Int
        /// Last physical line, heredoc bodies included.
        var endLine: Int
        var text: [UInt8]
        var segments: [Segment]
        var command: Command

        /// The source offset of a logical position (`text.count` maps to the end of the last segment).
        func sourceOffset(_ logical: Int) -> Int {
            var low = 0
            var high = segments.count - 1
            while low < high {
                let mid = (low + high + 1) / 2
                if segments[mid].logicalStart <= logical { low = mid } else { high = mid - 1 }
            }
            let segment = segments[low]
            return segment.sourceStart + (logical - segment.logicalStart)
        }
    }

    /// Lexes the whole file.
    mutating func instructions() throws(DockerfileError) -> [Instruction] {
        var result: [Instruction] = []
        var directives = DirectiveState()
        var lineNumber = 0
        var position = 0
        let count = bytes.count
        lineStarts.reserveCapacity(count / 32 + 1)

        // Reads the next physical line: its content (no line terminator, no trailing CRs).
        func nextLine() -> (start: Int, end: Int) {
            let start = position
            var newline = start
            while newline < count && bytes[newline] != 0x0A { newline += 1 }
            var end = newline
            while end > start && bytes[end - 1] == 0x0D { end -= 1 }
            position = newline + 1
            lineNumber += 1
            lineStarts.append(start)
            return (start, end)
        }

        var text: [UInt8] = []
        while position < count {
            var (start, end) = nextLine()
            if lineNumber == 1 && end - start >= 3 && bytes[start] == 0xEF && bytes[start + 1] == 0xBB
                && bytes[start + 2] == 0xBF
            {
                start += 3
            }
            var first = start
            while first < end && isASCIISpace(bytes[first]) { first += 1 }
            if !directives.done {
                if let escapeValue = try directives.parse(bytes[first..<end], line: lineNumber) {
                    escape = escapeValue
                }
            }
            if first < end && bytes[first] == UInt8(ascii: "#") { continue }
            var (segmentEnd, continues) = trimContinuation(first, end)
            if !continues && segmentEnd == first { continue }
            directives.done = true

            let startLine = lineNumber
            text.removeAll(keepingCapacity: true)
            var segments = [Segment(logicalStart: 0, sourceStart: first, length: segmentEnd - first)]
            text.append(contentsOf: bytes[first..<segmentEnd])
            while continues && position < count {
                let (lineStart, lineEnd) = nextLine()
                var nonSpace = lineStart
                while nonSpace < lineEnd && isASCIISpace(bytes[nonSpace]) { nonSpace += 1 }
                if nonSpace == lineEnd || bytes[nonSpace] == UInt8(ascii: "#") { continue }
                (segmentEnd, continues) = trimContinuation(lineStart, lineEnd)
                segments.append(Segment(logicalStart: text.count, sourceStart: lineStart, length: segmentEnd - lineStart))
                text.append(contentsOf: bytes[lineStart..<segmentEnd])
            }
            let command = Command(text, 0..<text.count)
            if command.canContainHeredoc(in: text), text.contains(UInt8(ascii: "<")) {
                for heredoc in heredocNames(text) {
                    var terminated = false
                    while position < count {
                        var (bodyStart, bodyEnd) = nextLine()
                        if heredoc.chomp {
                            while bodyStart < bodyEnd && bytes[bodyStart] == 0x09 { bodyStart += 1 }
                        }
                        if bytes[bodyStart..<bodyEnd].elementsEqual(heredoc.name) {
                            terminated = true
                            break
                        }
                    }
                    if !terminated {
                        let name = String(decoding: heredoc.name, as: UTF8.self)
                        throw DockerfileError(
                            line: startLine,
                            reason: "unterminated heredoc: no line \"\(name)\" closes the <<\(name) opened here")
                    }
                }
            }
            result.append(
                Instruction(startLine: startLine, endLine: lineNumber, text: text, segments: segments, command: command))
        }
        return result
    }

    /// BuildKit's `trimContinuationCharacter`: a line continues when it ends with the escape
    /// character followed only by spaces and tabs. Returns where the content ends.
    private func trimContinuation(_ start: Int, _ end: Int) -> (Int, Bool) {
        var i = end
        while i > start && (bytes[i - 1] == 0x20 || bytes[i - 1] == 0x09) { i -= 1 }
        if i > start && bytes[i - 1] == escape { return (i - 1, true) }
        return (end, false)
    }
}

/// Parser directives (`# syntax=…`, `# escape=…`, `# check=…`) at the top of the file, as BuildKit's
/// `DirectiveParser`: they end at the first line that is not one of them.
private struct DirectiveState {
    var done = false
    private var seen: Set<String> = []

    /// Reads a possible directive line (already left-trimmed). Returns the escape character
    /// when the line sets one.
    mutating func parse(_ line: ArraySlice<UInt8>, line number: Int) throws(DockerfileError) -> UInt8? {
        guard let directive = Self.directive(in: line),
            directive.key == "syntax" || directive.key == "escape" || directive.key == "check"
        else {
            done = true
            return nil
        }
        let (key, value) = directive
        guard seen.insert(key).inserted else {
            throw DockerfileError(line: number, reason: "only one \(key) parser directive can be used")
        }
        guard key == "escape" else { return nil }
        guard value.count == 1, value.first == UInt8(ascii: "\\") || value.first == UInt8(ascii: "`") else {
            throw DockerfileError(
                line: number,
                reason: "invalid escape token '\(String(decoding: value, as: UTF8.self))' does not match ` or \\")
        }
        return value.first
    }

    /// The lowercased key and the value of a line shaped as a directive, nil for any other line.
    private static func directive(in line: ArraySlice<UInt8>) -> (key: String, value: ArraySlice<UInt8>)? {
        // ^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0C || c == 0x0D }
        func isLetter(_ c: UInt8) -> Bool { (c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z") }
        var i = line.startIndex
        let end = line.endIndex
        guard i < end, line[i] == UInt8(ascii: "#") else { return nil }
        i += 1
        while i < end && isSpace(line[i]) { i += 1 }
        let keyStart = i
        guard i < end, isLetter(line[i]) else { return nil }
        while i < end && (isLetter(line[i]) || (line[i] >= UInt8(ascii: "0") && line[i] <= UInt8(ascii: "9"))) { i += 1 }
        let key = String(decoding: line[keyStart..<i].map(lowercased), as: UTF8.self)
        while i < end && isSpace(line[i]) { i += 1 }
        guard i < end, line[i] == UInt8(ascii: "=") else { return nil }
        i += 1
        while i < end && isSpace(line[i]) { i += 1 }
        var valueEnd = end
        while valueEnd > i && isSpace(line[valueEnd - 1]) { valueEnd -= 1 }
        guard valueEnd > i else { return nil }
        return (key, line[i..<valueEnd])
    }
}
