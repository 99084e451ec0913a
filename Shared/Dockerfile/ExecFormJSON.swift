/// Exec-form arguments (`CMD ["a", "b"]`): whether they are a JSON array of strings, as
/// BuildKit's `parseMaybeJSON` decides.

/// Go's `json.Unmarshal` into `[]interface{}`, then BuildKit's check that every element is a string.
func classifyJSONArray(_ s: ArraySlice<UInt8>) -> ArgumentForm {
    var parser = JSONScanner(bytes: s)
    parser.skipSpace()
    guard parser.peek == UInt8(ascii: "[") else { return .invalidJSON }
    var allStrings = true
    parser.index += 1
    parser.skipSpace()
    if parser.peek == UInt8(ascii: "]") {
        parser.index += 1
    } else {
        while true {
            parser.skipSpace()
            if parser.peek != UInt8(ascii: "\"") { allStrings = false }
            guard parser.skipValue() else { return .invalidJSON }
            parser.skipSpace()
            if parser.peek == UInt8(ascii: ",") {
                parser.index += 1
                continue
            }
            guard parser.peek == UInt8(ascii: "]") else { return .invalidJSON }
            parser.index += 1
            break
        }
    }
    parser.skipSpace()
    guard parser.index == s.endIndex else { return .invalidJSON }
    return allStrings ? .json : .nonStringJSON
}

/// Just enough of a JSON reader to validate a value.
private struct JSONScanner {
    let bytes: ArraySlice<UInt8>
    var index: Int

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        index = bytes.startIndex
    }

    var peek: UInt8? { index < bytes.endIndex ? bytes[index] : nil }

    mutating func skipSpace() {
        while let c = peek, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { index += 1 }
    }

    mutating func skipValue() -> Bool {
        guard let c = peek else { return false }
        switch c {
        case UInt8(ascii: "\""): return skipString()
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            let close = c == UInt8(ascii: "[") ? UInt8(ascii: "]") : UInt8(ascii: "}")
            index += 1
            skipSpace()
            if peek == close {
                index += 1
                return true
            }
            while true {
                skipSpace()
                if close == UInt8(ascii: "}") {
                    guard skipString() else { return false }
                    skipSpace()
                    guard peek == UInt8(ascii: ":") else { return false }
                    index += 1
                    skipSpace()
                }
                guard skipValue() else { return false }
                skipSpace()
                if peek == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard peek == close else { return false }
                index += 1
                return true
            }
        case UInt8(ascii: "t"): return skipLiteral("true")
        case UInt8(ascii: "f"): return skipLiteral("false")
        case UInt8(ascii: "n"): return skipLiteral("null")
        default: return skipNumber()
        }
    }

    private mutating func skipLiteral(_ word: String) -> Bool {
        for b in word.utf8 {
            guard peek == b else { return false }
            index += 1
        }
        return true
    }

    private mutating func skipNumber() -> Bool {
        let start = index
        if peek == UInt8(ascii: "-") { index += 1 }
        guard let first = peek, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { return false }
        if first == UInt8(ascii: "0") { index += 1 } else { skipDigits() }
        if peek == UInt8(ascii: ".") {
            index += 1
            guard skipDigits() else { return false }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard skipDigits() else { return false }
        }
        return index > start
    }

    @discardableResult
    private mutating func skipDigits() -> Bool {
        let start = index
        while let c = peek, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { index += 1 }
        return index > start
    }

    private mutating func skipString() -> Bool {
        guard peek == UInt8(ascii: "\"") else { return false }
        index += 1
        while let c = peek {
            index += 1
            if c == UInt8(ascii: "\"") { return true }
            if c < 0x20 { return false }
            if c == UInt8(ascii: "\\") {
                guard let e = peek else { return false }
                index += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    continue
                case UInt8(ascii: "u"):
                    for _ in 0..<4 {
                        guard let h = peek, h < 0x80, (h >= 0x30 && h <= 0x39) || ((h | 0x20) >= 0x61 && (h | 0x20) <= 0x66)
                        else { return false }
                        index += 1
                    }
                default: return false
                }
            }
        }
        return false
    }
}
