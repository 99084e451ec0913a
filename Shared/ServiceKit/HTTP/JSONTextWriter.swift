import Foundation
import RequestValidation

/// Writes a `JSONNode` as JSON text byte by byte, as `JSONResponse.encoder` would (keys
/// sorted, slashes not escaped), without `JSONEncoder`'s generic containers; or any JSON
/// member by member (`key`, `string`, `open`…: the caller orders an object's members), with a
/// comma before every member or element but the first of its container.
public struct JSONTextWriter {
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    public init(capacity: Int = 1024) {
        bytes.reserveCapacity(capacity)
    }

    /// Any `JSONNode`, encoded as its `Encodable` conformance does (integral numbers below
    /// 1e15 as integers), object keys sorted.
    public mutating func value(_ value: JSONNode) throws {
        switch value {
        case .null: raw("null".utf8)
        case .bool(let flag): raw((flag ? "true" : "false").utf8)
        case .string(let text): string(text)
        case .number(let number):
            if number.rounded() == number, abs(number) < 1e15 {
                raw(String(Int64(number)).utf8)
            } else {
                // Rare (a fraction, or a huge number): JSONEncoder's own formatting of a Double.
                raw(try JSONEncoder().encode(number))
            }
        case .array(let elements):
            open("[")
            for element in elements { try self.value(element) }
            close("]")
        case .object(let fields):
            open("{")
            for name in fields.keys.sorted() {
                key(escaping: name)
                try self.value(fields[name]!)
            }
            close("}")
        }
    }

    /// An object member's name, escaped; its value comes next.
    public mutating func key(escaping name: String) {
        separate()
        Self.writeString(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// A name that needs no escaping (a schema's member).
    public mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(contentsOf: "\":".utf8)
        needsComma = false
    }

    public mutating func string(_ text: String) {
        separate()
        Self.writeString(text, to: &bytes)
        needsComma = true
    }

    /// Text that is JSON already: a literal, a number's digits, a document.
    public mutating func raw(_ json: some Sequence<UInt8>) {
        separate()
        bytes.append(contentsOf: json)
        needsComma = true
    }

    public mutating func open(_ bracket: Unicode.Scalar) {
        separate()
        bytes.append(UInt8(ascii: bracket))
        needsComma = false
    }

    public mutating func close(_ bracket: Unicode.Scalar) {
        bytes.append(UInt8(ascii: bracket))
        needsComma = true
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    /// `text` as a JSON string, escaped as `JSONEncoder` escapes it (slashes left alone).
    public static func writeString(_ text: String, to bytes: inout [UInt8]) {
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
