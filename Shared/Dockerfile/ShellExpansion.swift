/// A variable's value at the point a word is expanded.
enum ShellValue: Equatable {
    case set([UInt8])
    case unset
    /// Possibly set by something this module cannot see (a base image's `ENV`).
    case unknown
}

/// One word expanded as BuildKit's shell lexer does it (`ProcessWordWithMatches`): quotes and
/// escapes removed, `$NAME`, `${NAME}`, `${NAME:-w}`, `${NAME-w}`, `${NAME:+w}`, `${NAME+w}`,
/// `${NAME:?w}`, `${NAME?w}`, `${NAME#p}`, `${NAME##p}`, `${NAME%p}`, `${NAME%%p}`; an unset
/// variable expands to nothing.
///
/// This is the self-check's expansion, written apart from the rewriter's (`Expander`) on purpose:
/// it produces plain values, with no bookkeeping of where bytes came from.
enum ShellExpansion {
    enum Outcome: Equatable {
        case text([UInt8])
        /// Depends on a variable whose value cannot be known here.
        case unknown
        /// BuildKit refuses the word (`${V:?}` unset, a bad substitution, an open quote).
        case failed
    }

    static func expand(_ word: ArraySlice<UInt8>, escape: UInt8, lookup: @escaping (String) -> ShellValue) -> Outcome {
        var lexer = ShellLexer(bytes: word, escape: escape, lookup: lookup)
        do {
            let text = try lexer.process(stops: [])
            return .text(text)
        } catch .unknown {
            return .unknown
        } catch {
            return .failed
        }
    }
}

private enum ShellStop: Error {
    case unknown
    case failed
}

private struct ShellLexer {
    let bytes: ArraySlice<UInt8>
    let escape: UInt8
    let lookup: (String) -> ShellValue
    var index: Int
    private var depth = 0

    init(bytes: ArraySlice<UInt8>, escape: UInt8, lookup: @escaping (String) -> ShellValue) {
        self.bytes = bytes
        self.escape = escape
        self.lookup = lookup
        index = bytes.startIndex
    }

    private var peek: UInt8? { index < bytes.endIndex ? bytes[index] : nil }

    private mutating func next() -> UInt8? {
        guard index < bytes.endIndex else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    /// Reads up to one of `stops` (consumed) or the end.
    mutating func process(stops: [UInt8]) throws(ShellStop) -> [UInt8] {
        var result: [UInt8] = []
        while let c = peek {
            if stops.contains(c) {
                index += 1
                return result
            }
            switch c {
            case UInt8(ascii: "'"):
                index += 1
                while true {
                    guard let d = next() else { throw .failed }
                    if d == UInt8(ascii: "'") { break }
                    result.append(d)
                }
            case UInt8(ascii: "\""):
                result += try doubleQuoted()
            case UInt8(ascii: "$"):
                result += try dollar()
            default:
                index += 1
                if c == escape {
                    guard let d = next() else { return result }
                    result.append(d)
                } else {
                    result.append(c)
                }
            }
        }
        // A `${…` whose `}` never comes.
        if !stops.isEmpty { throw .failed }
        return result
    }

    private mutating func doubleQuoted() throws(ShellStop) -> [UInt8] {
        index += 1
        var result: [UInt8] = []
        while true {
            guard let c = peek else { throw .failed }
            if c == UInt8(ascii: "\"") {
                index += 1
                return result
            }
            if c == UInt8(ascii: "$") {
                result += try dollar()
                continue
            }
            index += 1
            if c == escape {
                guard let d = peek else { continue }
                if d == UInt8(ascii: "\"") || d == UInt8(ascii: "$") || d == escape {
                    index += 1
                    result.append(d)
                    continue
                }
            }
            result.append(c)
        }
    }

    private mutating func name() -> String {
        let start = index
        if let c = peek, c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
            while let d = peek, d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") { index += 1 }
        } else {
            while let d = peek, isAlphanumeric(d) || d == UInt8(ascii: "_") { index += 1 }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private func value(_ name: String) throws(ShellStop) -> [UInt8]? {
        switch lookup(name) {
        case .set(let value): return value
        case .unset: return nil
        case .unknown: throw .unknown
        }
    }

    private mutating func dollar() throws(ShellStop) -> [UInt8] {
        index += 1
        guard peek == UInt8(ascii: "{") else {
            let name = name()
            if name.isEmpty { return [UInt8(ascii: "$")] }
            return try value(name) ?? []
        }
        index += 1
        guard let first = peek, first != UInt8(ascii: "{"), first != UInt8(ascii: "}"), first != UInt8(ascii: ":") else {
            throw .failed
        }
        guard depth < 16 else { throw .failed }
        depth += 1
        defer { depth -= 1 }
        let name = name()
        guard var modifier = next() else { throw .failed }
        var colon = false
        if modifier == UInt8(ascii: ":") {
            colon = true
            guard let after = next() else { throw .failed }
            modifier = after
            guard modifier == UInt8(ascii: "-") || modifier == UInt8(ascii: "+") || modifier == UInt8(ascii: "?") else {
                throw .failed
            }
        }
        switch modifier {
        case UInt8(ascii: "}"):
            return try value(name) ?? []
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "?"):
            let word = try process(stops: [UInt8(ascii: "}")])
            let value = try value(name)
            let isSet = value.map { !colon || !$0.isEmpty } ?? false
            switch modifier {
            case UInt8(ascii: "-"): return isSet ? value! : word
            case UInt8(ascii: "+"): return isSet ? word : []
            default:
                guard isSet else { throw .failed }
                return value!
            }
        case UInt8(ascii: "#"), UInt8(ascii: "%"):
            let longest = peek == modifier
            if longest { index += 1 }
            let pattern = ShellPattern(try process(stops: [UInt8(ascii: "}")]))
            let value = try value(name) ?? []
            guard value.count <= ShellPattern.maximumValueLength else { throw .unknown }
            if modifier == UInt8(ascii: "#") {
                return Array(value.dropFirst(pattern.prefixLength(in: value[...], longest: longest)))
            }
            return Array(value.dropLast(pattern.suffixLength(in: value[...], longest: longest)))
        default:
            // `${V/p/r}` and anything else: not evaluated here.
            throw .unknown
        }
    }
}
