/// Splits a byte stream into lines whatever the chunk boundaries: a line may arrive in many
/// chunks and a chunk may hold many lines. A trailing `\r` is removed; empty lines are
/// dropped unless `keepsEmptyLines` (a log's blank lines are lines, NDJSON's are not).
public struct LineSplitter: Sendable {
    private var pending: [UInt8] = []
    private let keepsEmptyLines: Bool

    public init(keepsEmptyLines: Bool = false) {
        self.keepsEmptyLines = keepsEmptyLines
    }

    /// The lines the chunk completes; a line not yet ended by `\n` waits for the next chunk.
    public mutating func append(_ chunk: some Collection<UInt8>) -> [[UInt8]] {
        pending.append(contentsOf: chunk)
        var lines: [[UInt8]] = []
        var start = pending.startIndex
        while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
            if let line = trimmed(pending[start..<newline]) { lines.append(line) }
            start = newline + 1
        }
        pending.removeFirst(start)
        return lines
    }

    /// The last line when the stream ended without a final `\n`.
    public mutating func finish() -> [UInt8]? {
        defer { pending = [] }
        return pending.isEmpty ? nil : trimmed(pending[...])
    }

    private func trimmed(_ line: ArraySlice<UInt8>) -> [UInt8]? {
        let line = line.last == UInt8(ascii: "\r") ? line.dropLast() : line
        return line.isEmpty && !keepsEmptyLines ? nil : Array(line)
    }
}
