/// Splits a byte stream into lines whatever the chunk boundaries: a line may arrive in many
/// chunks and a chunk may hold many lines. Empty lines are dropped, a trailing `\r` removed.
struct NDJSONLineSplitter: Sendable {
    private var pending: [UInt8] = []

    /// The lines the chunk completes; a line not yet ended by `\n` waits for the next chunk.
    mutating func append(_ chunk: some Collection<UInt8>) -> [[UInt8]] {
        pending.append(contentsOf: chunk)
        var lines: [[UInt8]] = []
        var start = pending.startIndex
        while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
            if let line = Self.trimmed(pending[start..<newline]) { lines.append(line) }
            start = newline + 1
        }
        pending.removeFirst(start)
        return lines
    }

    /// The last line when the stream ended without a final `\n`.
    mutating func finish() -> [UInt8]? {
        defer { pending = [] }
        return Self.trimmed(pending[...])
    }

    private static func trimmed(_ line: ArraySlice<UInt8>) -> [UInt8]? {
        let line = line.last == UInt8(ascii: "\r") ? line.dropLast() : line
        return line.isEmpty ? nil : Array(line)
    }
}
