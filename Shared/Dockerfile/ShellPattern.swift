/// A shell glob pattern as `${NAME#pattern}` and `${NAME%pattern}` use it (BuildKit's
/// `convertShellPatternToRegex`): `*` any run of bytes, `?` one byte, `[…]` a class (`[!…]` or
/// `[^…]` negated, `a-z` ranges), `\x` the byte `x`.
struct ShellPattern {
    private enum Token: Equatable {
        case byte(UInt8)
        case any
        case star
        case set(ranges: [ClosedRange<UInt8>], negated: Bool)
    }

    private let tokens: [Token]

    init(_ pattern: [UInt8]) {
        var tokens: [Token] = []
        var i = 0
        while i < pattern.count {
            let c = pattern[i]
            switch c {
            case UInt8(ascii: "*"):
                if tokens.last != .star { tokens.append(.star) }
            case UInt8(ascii: "?"):
                tokens.append(.any)
            case UInt8(ascii: "\\") where i + 1 < pattern.count:
                i += 1
                tokens.append(.byte(pattern[i]))
            case UInt8(ascii: "["):
                if let (set, end) = Self.set(pattern, from: i) {
                    tokens.append(set)
                    i = end
                } else {
                    tokens.append(.byte(c))
                }
            default:
                tokens.append(.byte(c))
            }
            i += 1
        }
        self.tokens = tokens
    }

    /// A `[…]` class starting at `start`, and the index of its `]`.
    private static func set(_ p: [UInt8], from start: Int) -> (Token, Int)? {
        var i = start + 1
        var negated = false
        if i < p.count && (p[i] == UInt8(ascii: "!") || p[i] == UInt8(ascii: "^")) {
            negated = true
            i += 1
        }
        var ranges: [ClosedRange<UInt8>] = []
        var first = true
        while i < p.count {
            if p[i] == UInt8(ascii: "]") && !first { return (.set(ranges: ranges, negated: negated), i) }
            first = false
            var low = p[i]
            if low == UInt8(ascii: "\\") && i + 1 < p.count {
                i += 1
                low = p[i]
            }
            if i + 2 < p.count && p[i + 1] == UInt8(ascii: "-") && p[i + 2] != UInt8(ascii: "]") {
                let high = p[i + 2]
                if low <= high { ranges.append(low...high) }
                i += 3
            } else {
                ranges.append(low...low)
                i += 1
            }
        }
        return nil
    }

    /// Whether the pattern matches all of `text`.
    func matches(_ text: ArraySlice<UInt8>) -> Bool {
        match(0, text, text.startIndex)
    }

    private func match(_ t: Int, _ text: ArraySlice<UInt8>, _ i: Int) -> Bool {
        var t = t
        var i = i
        while t < tokens.count {
            switch tokens[t] {
            case .star:
                if t == tokens.count - 1 { return true }
                var j = i
                while j <= text.endIndex {
                    if match(t + 1, text, j) { return true }
                    j += 1
                }
                return false
            case .any:
                guard i < text.endIndex else { return false }
            case .byte(let b):
                guard i < text.endIndex, text[i] == b else { return false }
            case .set(let ranges, let negated):
                guard i < text.endIndex else { return false }
                let inSet = ranges.contains { $0.contains(text[i]) }
                guard inSet != negated else { return false }
            }
            t += 1
            i += 1
        }
        return i == text.endIndex
    }

    /// How many bytes `${V#p}` (`longest` false) or `${V##p}` removes from the front of `value`.
    func prefixLength(in value: ArraySlice<UInt8>, longest: Bool) -> Int {
        let lengths = longest ? Array((0...value.count).reversed()) : Array(0...value.count)
        for n in lengths where matches(value.prefix(n)) { return n }
        return 0
    }

    /// How many bytes `${V%p}` (`longest` false) or `${V%%p}` removes from the end of `value`.
    func suffixLength(in value: ArraySlice<UInt8>, longest: Bool) -> Int {
        let lengths = longest ? Array((0...value.count).reversed()) : Array(0...value.count)
        for n in lengths where matches(value.suffix(n)) { return n }
        return 0
    }
}
