import Foundation
import RequestValidation

/// Writes JSON text byte by byte, as `JSONResponse.encoder` would (keys sorted, slashes not
/// escaped, dates ISO 8601 in whole seconds): for response bodies on hot paths, where
/// `JSONEncoder`'s generic containers were a tenth of a request's CPU. The caller writes an
/// object's members in sorted key order; `JSONNode` objects are sorted here.
public struct JSONTextWriter {
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    public init(capacity: Int = 1024) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// A member's key; its value is written next.
    public mutating func key(_ key: String) {
        separate()
        Self.writeString(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func string(_ value: String) {
        separate()
        Self.writeString(value, to: &bytes)
        needsComma = true
    }

    public mutating func int(_ value: Int64) {
        separate()
        bytes.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    public mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
        needsComma = true
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
        needsComma = true
    }

    /// A member whose value is left out when nil, as `encodeIfPresent` does.
    public mutating func member(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    public mutating func member(_ name: String, _ value: Int64?) {
        guard let value else { return }
        key(name)
        int(value)
    }

    public mutating func member(_ name: String, _ value: Bool) {
        key(name)
        bool(value)
    }

    public mutating func member(_ name: String, _ value: Date?) {
        guard let value else { return }
        key(name)
        date(value)
    }

    public mutating func member(_ name: String, _ value: JSONNode?) throws {
        guard let value else { return }
        key(name)
        try self.value(value)
    }

    /// `yyyy-MM-ddTHH:mm:ssZ` in UTC, the fraction of a second dropped (`.iso8601`).
    public mutating func date(_ date: Date) {
        separate()
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        bytes.append(UInt8(ascii: "\""))
        digits(Int(parts.tm_year) + 1900, count: 4)
        bytes.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, count: 2)
        bytes.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), count: 2)
        bytes.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), count: 2)
        bytes.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), count: 2)
        bytes.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), count: 2)
        bytes.append(contentsOf: "Z\"".utf8)
        needsComma = true
    }

    /// Any `JSONNode`, encoded as its `Encodable` conformance does (integral numbers below
    /// 1e15 as integers), object keys sorted.
    public mutating func value(_ value: JSONNode) throws {
        switch value {
        case .null: null()
        case .bool(let flag): bool(flag)
        case .string(let text): string(text)
        case .number(let number):
            if number.rounded() == number, abs(number) < 1e15 {
                int(Int64(number))
            } else {
                // Rare (a fraction, or a huge number): JSONEncoder's own formatting of a Double.
                separate()
                bytes.append(contentsOf: try JSONEncoder().encode(number))
                needsComma = true
            }
        case .array(let elements):
            beginArray()
            for element in elements { try self.value(element) }
            endArray()
        case .object(let fields):
            beginObject()
            for name in fields.keys.sorted() {
                key(name)
                try self.value(fields[name]!)
            }
            endObject()
        }
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func digits(_ value: Int, count: Int) {
        var divisor = 1
        for _ in 1..<count { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }

    /// `text` as a JSON string, escaped as `JSONEncoder` escapes it (slashes left alone).
    static func writeString(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): bytes.append(contentsOf: #"\\"#.utf8)
            case 0x0A: bytes.append(contentsOf: #"\n"#.utf8)
            case 0x0D: bytes.append(contentsOf: #"\r"#.utf8)
            case 0x09: bytes.append(contentsOf: #"\t"#.utf8)
            case 0x08: bytes.append(contentsOf: #"\b"#.utf8)
            case 0x0C: bytes.append(contentsOf: #"\f"#.utf8)
            case 0..<0x20:
                bytes.append(contentsOf: #"\u00"#.utf8)
                bytes.append(hexDigits[Int(byte >> 4)])
                bytes.append(hexDigits[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
