/// Parses JSON text into a `JSONNode` in one pass over its UTF-8 bytes (`JSONNode(parsing:)`).
///
/// `JSONDecoder` decoding a `JSONNode` tried each kind in turn, throwing and catching an error
/// at every value that was not a bool, and was a tenth of a status read's CPU. RFC 8259 (any
/// value at the top, at most `maxDepth` nested arrays and objects), values as `JSONDecoder`
/// gives them (numbers as `Double`). Stricter than it on trailing commas; of duplicate keys the
/// last wins, as in PostgreSQL's jsonb, where stored text comes from, unless `firstKeyWins`
/// (`JSONDecoder`'s way, for request bodies). Errors are `DecodingError.dataCorrupted`.
struct JSONValueParser {
    static let maxDepth = 512

    private let bytes: UnsafeBufferPointer<UInt8>
    private let firstKeyWins: Bool
    private var index = 0
    private var depth = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>, firstKeyWins: Bool) {
        self.bytes = bytes
        self.firstKeyWins = firstKeyWins
    }

    static func parse(_ text: String, firstKeyWins: Bool = false) throws -> JSONNode {
        var text = text
        return try text.withUTF8 { bytes in
            var parser = JSONValueParser(bytes, firstKeyWins: firstKeyWins)
            parser.skipWhitespace()
            let value = try parser.value()
            parser.skipWhitespace()
            guard parser.index == bytes.count else { throw parser.error("unexpected text after the JSON value") }
            return value
        }
    }

    private mutating func value() throws -> JSONNode {
        guard index < bytes.count else { throw error("unexpected end of the JSON text") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw error("unexpected character")
        }
    }

    private mutating func object() throws -> JSONNode {
        try enter()
        defer { depth -= 1 }
        index += 1
        var fields: [String: JSONNode] = [:]
        skipWhitespace()
        if try consume(UInt8(ascii: "}")) { return .object(fields) }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a key") }
            let key = try string()
            skipWhitespace()
            guard try consume(UInt8(ascii: ":")) else { throw error("expected ':'") }
            skipWhitespace()
            let member = try value()
            if !firstKeyWins || fields[key] == nil { fields[key] = member }
            skipWhitespace()
            if try consume(UInt8(ascii: "}")) { return .object(fields) }
            guard try consume(UInt8(ascii: ",")) else { throw error("expected ',' or '}'") }
        }
    }

    private mutating func array() throws -> JSONNode {
        try enter()
        defer { depth -= 1 }
        index += 1
        var elements: [JSONNode] = []
        skipWhitespace()
        if try consume(UInt8(ascii: "]")) { return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try value())
            skipWhitespace()
            if try consume(UInt8(ascii: "]")) { return .array(elements) }
            guard try consume(UInt8(ascii: ",")) else { throw error("expected ',' or ']'") }
        }
    }

    /// A string starting at the opening quote; leaves `index` after the closing one.
    private mutating func string() throws -> String {
        index += 1
        let start = index
        // The common case: no escapes, one copy.
        while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") {
            guard bytes[index] >= 0x20 else { throw error("unescaped control character in a string") }
            index += 1
        }
        guard index < bytes.count else { throw error("unterminated string") }
        if bytes[index] == UInt8(ascii: "\"") {
            defer { index += 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        }
        var out = Array(bytes[start..<index])
        while true {
            guard index < bytes.count else { throw error("unterminated string") }
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { throw error("unterminated string") }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escaped)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): out.append(contentsOf: String(try unicodeEscape()).utf8)
                default: throw error("invalid escape in a string")
                }
            case 0..<0x20:
                throw error("unescaped control character in a string")
            default:
                out.append(byte)
            }
        }
    }

    /// The scalar of `\uXXXX` (after the `u`), joining a surrogate pair.
    private mutating func unicodeEscape() throws -> Unicode.Scalar {
        let first = try hex4()
        if (0xD800..<0xDC00).contains(first) {
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
            else { throw error("unpaired surrogate in a string") }
            index += 2
            let second = try hex4()
            guard (0xDC00..<0xE000).contains(second) else { throw error("unpaired surrogate in a string") }
            return Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))!
        }
        guard let scalar = Unicode.Scalar(first) else { throw error("unpaired surrogate in a string") }
        return scalar
    }

    private mutating func hex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("invalid \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, as a finite `Double`.
    private mutating func number() throws -> Double {
        let start = index
        _ = try consume(UInt8(ascii: "-"))
        guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            skipDigits()
        }
        if try consume(UInt8(ascii: ".")) {
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number") }
            skipDigits()
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number") }
            skipDigits()
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let number = Double(text), number.isFinite else { throw error("number out of range") }
        return number
    }

    private mutating func literal(_ word: StaticString, _ value: JSONNode) throws -> JSONNode {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count,
            UnsafeBufferPointer(rebasing: bytes[index..<index + count]).elementsEqual(
                UnsafeBufferPointer(start: word.utf8Start, count: count))
        else { throw error("unexpected character") }
        index += count
        return value
    }

    private mutating func enter() throws {
        depth += 1
        guard depth <= Self.maxDepth else { throw error("too deeply nested") }
    }

    private mutating func consume(_ byte: UInt8) throws -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipWhitespace() {
        while index < bytes.count,
            bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09
        {
            index += 1
        }
    }

    private mutating func skipDigits() {
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }

    private func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private func error(_ reason: String) -> DecodingError {
        DecodingError.dataCorrupted(
            DecodingError.Context(codingPath: [], debugDescription: "invalid JSON at byte \(index): \(reason)"))
    }
}

extension JSONNode {
    /// Parses JSON text (see `JSONValueParser`).
    public init(parsing text: String) throws {
        self = try JSONValueParser.parse(text)
    }
}
