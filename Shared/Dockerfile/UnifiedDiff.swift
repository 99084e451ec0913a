/// A line-based diff in unified format (`--- a/Dockerfile`, `+++ b/Dockerfile`, `@@ … @@` hunks
/// with three lines of context), computed with Myers' algorithm. Empty when the texts are equal.
public enum UnifiedDiff {
    public static func make(
        from old: String, to new: String, oldName: String = "a/Dockerfile", newName: String = "b/Dockerfile",
        context: Int = 3
    ) -> String {
        if old == new { return "" }
        let a = Lines(old)
        let b = Lines(new)
        let script = editScript(a.lines, b.lines)
        var out = "--- \(oldName)\n+++ \(newName)\n"
        var index = 0
        while index < script.count {
            // Find the next change and the end of its hunk.
            guard let firstChange = script[index...].firstIndex(where: { $0.kind != .equal }) else { break }
            var last = firstChange
            var scan = firstChange
            while scan < script.count {
                if script[scan].kind != .equal {
                    last = scan
                    scan += 1
                    continue
                }
                let nextChange = script[scan...].firstIndex(where: { $0.kind != .equal })
                guard let nextChange, nextChange - scan <= 2 * context else { break }
                scan = nextChange
            }
            let start = max(index, firstChange - context)
            let end = min(script.count, last + 1 + context)
            let hunk = script[start..<end]
            let oldStart = hunk.first!.oldIndex
            let newStart = hunk.first!.newIndex
            let oldCount = hunk.filter { $0.kind != .insert }.count
            let newCount = hunk.filter { $0.kind != .delete }.count
            out += "@@ -\(range(oldStart, oldCount)) +\(range(newStart, newCount)) @@\n"
            for op in hunk {
                switch op.kind {
                case .equal: out += " " + a.text(op.oldIndex) + a.terminator(op.oldIndex)
                case .delete: out += "-" + a.text(op.oldIndex) + a.terminator(op.oldIndex)
                case .insert: out += "+" + b.text(op.newIndex) + b.terminator(op.newIndex)
                }
            }
            index = end
        }
        return out
    }

    /// `start,count` as GNU diff writes it (1-based; `,count` omitted when 1).
    private static func range(_ index: Int, _ count: Int) -> String {
        switch count {
        case 0: return "\(index),0"
        case 1: return "\(index + 1)"
        default: return "\(index + 1),\(count)"
        }
    }

    private struct Lines {
        let lines: [Substring]
        let endsWithNewline: Bool

        /// Splits on LF bytes: as Characters, CRLF is one grapheme that is not "\n".
        init(_ text: String) {
            var lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                .map { Substring($0) }
            endsWithNewline = text.utf8.last == UInt8(ascii: "\n")
            if endsWithNewline || text.isEmpty { lines.removeLast() }
            self.lines = lines
        }

        func text(_ i: Int) -> Substring { lines[i] }

        func terminator(_ i: Int) -> String {
            i == lines.count - 1 && !endsWithNewline ? "\n\\ No newline at end of file\n" : "\n"
        }
    }

    enum Kind { case equal, delete, insert }

    struct Operation {
        var kind: Kind
        var oldIndex: Int
        var newIndex: Int
    }

    /// The shortest edit script from `a` to `b`.
    static func editScript(_ a: [Substring], _ b: [Substring]) -> [Operation] {
        var prefix = 0
        while prefix < a.count && prefix < b.count && a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < a.count - prefix && suffix < b.count - prefix && a[a.count - 1 - suffix] == b[b.count - 1 - suffix] {
            suffix += 1
        }
        var ops: [Operation] = (0..<prefix).map { Operation(kind: .equal, oldIndex: $0, newIndex: $0) }
        let a0 = prefix
        let b0 = prefix
        let n = a.count - prefix - suffix
        let m = b.count - prefix - suffix
        ops += middle(a, a0, n, b, b0, m)
        ops += (0..<suffix).map {
            Operation(kind: .equal, oldIndex: a.count - suffix + $0, newIndex: b.count - suffix + $0)
        }
        return ops
    }

    /// Myers' greedy algorithm on `a[a0..<a0+n]` and `b[b0..<b0+m]`.
    private static func middle(_ a: [Substring], _ a0: Int, _ n: Int, _ b: [Substring], _ b0: Int, _ m: Int) -> [Operation] {
        if n == 0 { return (0..<m).map { Operation(kind: .insert, oldIndex: a0, newIndex: b0 + $0) } }
        if m == 0 { return (0..<n).map { Operation(kind: .delete, oldIndex: a0 + $0, newIndex: b0) } }
        let max = n + m
        let offset = max
        var v = [Int](repeating: 0, count: 2 * max + 2)
        var trace: [[Int]] = []
        search: for d in 0...max {
            trace.append(v)
            for k in stride(from: -d, through: d, by: 2) {
                var x: Int
                if k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) {
                    x = v[offset + k + 1]
                } else {
                    x = v[offset + k - 1] + 1
                }
                var y = x - k
                while x < n && y < m && a[a0 + x] == b[b0 + y] {
                    x += 1
                    y += 1
                }
                v[offset + k] = x
                if x >= n && y >= m { break search }
            }
        }
        // Walk back through the trace.
        var ops: [Operation] = []
        var x = n
        var y = m
        for d in stride(from: trace.count - 1, through: 0, by: -1) {
            let v = trace[d]
            let k = x - y
            let previousK = (k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1])) ? k + 1 : k - 1
            let previousX = d == 0 ? 0 : v[offset + previousK]
            let previousY = previousX - previousK
            while x > previousX && y > previousY {
                x -= 1
                y -= 1
                ops.append(Operation(kind: .equal, oldIndex: a0 + x, newIndex: b0 + y))
            }
            if d > 0 {
                if x == previousX {
                    y -= 1
                    ops.append(Operation(kind: .insert, oldIndex: a0 + x, newIndex: b0 + y))
                } else {
                    x -= 1
                    ops.append(Operation(kind: .delete, oldIndex: a0 + x, newIndex: b0 + y))
                }
            }
        }
        return ops.reversed()
    }
}
