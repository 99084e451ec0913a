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

    /// Values longer than this are not matched (`${V%%*a*a*b}` over a long value is slow).
    static let maximumValueLength = 4096

    /// Whether the pattern matches all of `text`: a single backtracking point for the last `*`,
    /// so at most `tokens.count × text.count` steps.
    func matches(_ text: ArraySlice<UInt8>) -> Bool {
        var t = 0
        var i = text.startIndex
        var star: (token: Int, index: Int)?
        while i < text.endIndex {
            if t < tokens.count, tokens[t] == .star {
                star = (t, i)
                t += 1
            } else if t < tokens.count, matchesOne(tokens[t], text[i]) {
                t += 1
                i += 1
            } else if let last = star {
                star = (last.token, last.index + 1)
                t = last.token + 1
                i = last.index + 1
            } else {
                return false
            }
        }
        while t < tokens.count && tokens[t] == .star { t += 1 }
        return t == tokens.count
    }

    private func matchesOne(_ token: Token, _ byte: UInt8) -> Bool {
        switch token {
        case .star: true
        case .any: true
        case .byte(let b): b == byte
        case .set(let ranges, let negated): ranges.contains { $0.contains(byte) } != negated
        }
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
