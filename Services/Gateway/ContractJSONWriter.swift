import ContractCoding
import Foundation
import ServiceKit

/// JSON text as the contract's `JSONEncoder` writes it, member by member (the caller writes an
/// object's members in the UTF-8 order of their keys): a comma before every member or element
/// but the first of its container, strings escaped as `JSONTextWriter` escapes them.
struct ContractJSONWriter {
    private(set) var bytes: [UInt8] = []
    private var needsComma = false

    init(capacity: Int = 1024) {
        bytes.reserveCapacity(capacity)
    }

    mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(contentsOf: "\":".utf8)
        needsComma = false
    }

    mutating func open(_ bracket: Unicode.Scalar) {
        separate()
        bytes.append(UInt8(ascii: bracket))
        needsComma = false
    }

    mutating func close(_ bracket: Unicode.Scalar) {
        bytes.append(UInt8(ascii: bracket))
        needsComma = true
    }

    mutating func string(_ text: String) {
        separate()
        JSONTextWriter.writeString(text, to: &bytes)
        needsComma = true
    }

    /// An object of texts, its members in the UTF-8 order of their names.
    mutating func texts(_ members: [String: String]) {
        open("{")
        for (name, value) in members.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            separate()
            JSONTextWriter.writeString(name, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            needsComma = false
            string(value)
        }
        close("}")
    }

    mutating func int(_ number: Int) { raw(String(number).utf8) }
    mutating func bool(_ flag: Bool) { raw((flag ? "true" : "false").utf8) }
    mutating func date(_ date: Date) throws { string(try ISO8601Dates().encode(date)) }

    /// Text that is JSON already.
    mutating func raw(_ json: some Sequence<UInt8>) {
        separate()
        bytes.append(contentsOf: json)
        needsComma = true
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }
}
