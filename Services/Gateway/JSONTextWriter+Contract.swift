import ContractCoding
import Foundation
import ServiceKit

extension JSONTextWriter {
    /// An object of texts, its members in the UTF-8 order of their names, as the contract's
    /// `JSONEncoder` sorts them.
    mutating func texts(_ members: [String: String]) {
        open("{")
        for (name, value) in members.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            key(escaping: name)
            string(value)
        }
        close("}")
    }

    mutating func int(_ number: Int) { raw(String(number).utf8) }
    mutating func bool(_ flag: Bool) { raw((flag ? "true" : "false").utf8) }
    /// As `Configuration.buildchain` writes dates.
    mutating func date(_ date: Date) throws { string(try ISO8601Dates().encode(date)) }
}
