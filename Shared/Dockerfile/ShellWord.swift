/// A word as BuildKit's shell lexer reads it for variable expansion (`ProcessWord`): quotes and
/// escapes removed, `$NAME` and `${NAME…}` references found. Every literal byte keeps its source
/// offset so that a rewrite can replace exactly the bytes that spell an image name.
struct ShellWord {
    var parts: [Part]
    /// Source offset of the word's first byte as written (where an insertion goes).
    var sourceStart: Int

    enum Part {
        /// Literal bytes, each with its source offset.
        case literal(bytes: [UInt8], sources: [Int])
        case variable(Variable)
    }

    struct Variable {
        var name: String
        var modifier: Modifier
        /// The word after the modifier (`${NAME:-word}`).
        var word: ShellWord?
        /// The reference as written (`${NAME:-word}`), for messages and unresolved names.
        var raw: [UInt8]
    }

    enum Modifier: Equatable {
        case none
        /// `:-` (`colon` true) or `-`.
        case defaultValue(colon: Bool)
        /// `:+` or `+`.
        case alternative(colon: Bool)
        /// `:?` or `?`.
        case required(colon: Bool)
        /// `#` (`longest` false) or `##`: the shortest or longest prefix matching a pattern removed.
        case removePrefix(longest: Bool)
        /// `%` or `%%`: the same at the end.
        case removeSuffix(longest: Bool)
        /// Operators that this module does not evaluate (`/`, `//`…).
        case unsupported
    }

    /// Whether the word has no variable references.
    var isLiteral: Bool {
        parts.allSatisfy { if case .literal = $0 { true } else { false } }
    }

    /// Parses decoded bytes (`bytes[i]` was at source offset `sources[i]`).
    ///
    /// Returns `nil` when the word is malformed (unterminated quote or `${`).
    static func parse(_ bytes: ArraySlice<UInt8>, sources: ArraySlice<Int>, escape: UInt8) -> ShellWord? {
        var reader = Reader(bytes: bytes, sources: sources, escape: escape)
        guard let word = reader.word(stopAt: nil), reader.index == bytes.endIndex else { return nil }
        return word
    }
}

private struct Reader {
    let bytes: ArraySlice<UInt8>
    let sources: ArraySlice<Int>
    let escape: UInt8
    var index: Int
    /// How many `${…}` deep the reader is; words nested deeper than `maximumDepth` are malformed.
    private var depth = 0
    private static let maximumDepth = 16

    init(bytes: ArraySlice<UInt8>, sources: ArraySlice<Int>, escape: UInt8) {
        self.bytes = bytes
        self.sources = sources
        self.escape = escape
        index = bytes.startIndex
    }

    private var offsetShift: Int { sources.startIndex - bytes.startIndex }

    private func source(_ i: Int) -> Int { sources[i + offsetShift] }

    /// Reads up to `stop` (unquoted, unescaped) or the end.
    mutating func word(stopAt stop: UInt8?) -> ShellWord? {
        let start = index < bytes.endIndex ? source(index) : (bytes.isEmpty ? 0 : source(bytes.endIndex - 1) + 1)
        var parts: [ShellWord.Part] = []
        var literal: [UInt8] = []
        var literalSources: [Int] = []
        func flush() {
            if !literal.isEmpty {
                parts.append(.literal(bytes: literal, sources: literalSources))
                literal.removeAll()
                literalSources.removeAll()
            }
        }
        /// Takes the byte at `index` as it stands, and moves past it.
        func keep() {
            literal.append(bytes[index])
            literalSources.append(source(index))
            index += 1
        }
        while index < bytes.endIndex {
            let c = bytes[index]
            if let stop, c == stop { break }
            if c == escape {
                index += 1
                if index == bytes.endIndex { break }  // an escape at the end is dropped
                keep()
            } else if c == UInt8(ascii: "'") {
                index += 1
                while index < bytes.endIndex && bytes[index] != UInt8(ascii: "'") {
                    keep()
                }
                guard index < bytes.endIndex else { return nil }
                index += 1
            } else if c == UInt8(ascii: "\"") {
                index += 1
                while index < bytes.endIndex && bytes[index] != UInt8(ascii: "\"") {
                    let d = bytes[index]
                    if d == UInt8(ascii: "$") {
                        flush()
                        guard let part = dollar() else { return nil }
                        parts.append(part)
                        continue
                    }
                    if d == escape, index + 1 < bytes.endIndex {
                        let next = bytes[index + 1]
                        if next == UInt8(ascii: "\"") || next == UInt8(ascii: "$") || next == escape { index += 1 }
                    }
                    keep()
                }
                guard index < bytes.endIndex else { return nil }
                index += 1
            } else if c == UInt8(ascii: "$") {
                flush()
                guard let part = dollar() else { return nil }
                parts.append(part)
            } else {
                keep()
            }
        }
        flush()
        return ShellWord(parts: parts, sourceStart: start)
    }

    private static func isNameByte(_ c: UInt8) -> Bool {
        (c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z") || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
            || c == UInt8(ascii: "_")
    }

    /// Reads `$NAME`, `${NAME}`, `${NAME<op>word}`; a lone `$` is literal.
    private mutating func dollar() -> ShellWord.Part? {
        let dollarIndex = index
        index += 1
        guard index < bytes.endIndex else {
            return .literal(bytes: [UInt8(ascii: "$")], sources: [source(dollarIndex)])
        }
        if bytes[index] != UInt8(ascii: "{") {
            let nameStart = index
            while index < bytes.endIndex && Self.isNameByte(bytes[index]) { index += 1 }
            if index == nameStart {
                return .literal(bytes: [UInt8(ascii: "$")], sources: [source(dollarIndex)])
            }
            return .variable(
                ShellWord.Variable(
                    name: String(decoding: bytes[nameStart..<index], as: UTF8.self), modifier: .none, word: nil,
                    raw: Array(bytes[dollarIndex..<index])))
        }
        index += 1
        let nameStart = index
        while index < bytes.endIndex && Self.isNameByte(bytes[index]) { index += 1 }
        let name = String(decoding: bytes[nameStart..<index], as: UTF8.self)
        guard index < bytes.endIndex, !name.isEmpty else { return nil }
        var modifier = ShellWord.Modifier.none
        var word: ShellWord?
        if bytes[index] != UInt8(ascii: "}") {
            var colon = false
            if bytes[index] == UInt8(ascii: ":") {
                colon = true
                index += 1
                guard index < bytes.endIndex else { return nil }
            }
            let op = bytes[index]
            switch op {
            case UInt8(ascii: "-"): modifier = .defaultValue(colon: colon)
            case UInt8(ascii: "+"): modifier = .alternative(colon: colon)
            case UInt8(ascii: "?"): modifier = .required(colon: colon)
            case UInt8(ascii: "#") where !colon, UInt8(ascii: "%") where !colon:
                let longest = index + 1 < bytes.endIndex && bytes[index + 1] == op
                if longest { index += 1 }
                modifier = op == UInt8(ascii: "#") ? .removePrefix(longest: longest) : .removeSuffix(longest: longest)
            default: modifier = .unsupported
            }
            if modifier != .unsupported { index += 1 }
            guard depth < Self.maximumDepth else { return nil }
            depth += 1
            word = self.word(stopAt: UInt8(ascii: "}"))
            depth -= 1
            guard word != nil else { return nil }
        }
        guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "}") else { return nil }
        index += 1
        return .variable(
            ShellWord.Variable(name: name, modifier: modifier, word: word, raw: Array(bytes[dollarIndex..<index])))
    }
}
