/// A plain (ustar) tar archive written entry by entry, for build contexts that try to reach
/// outside the folder they are unpacked into: `../` names, absolute names, symbolic links
/// out of the folder and entries written through them. No tar tool would write most of these.
struct BadInputTarball {
    private(set) var bytes: [UInt8] = []

    mutating func file(_ name: String, _ text: String, mode: Int = 0o644) {
        append(name: name, type: "0", size: text.utf8.count, mode: mode)
        bytes += Array(text.utf8)
        bytes += [UInt8](repeating: 0, count: (512 - text.utf8.count % 512) % 512)
    }

    mutating func directory(_ name: String) {
        append(name: name, type: "5", size: 0, mode: 0o755)
    }

    mutating func symbolicLink(_ name: String, to target: String) {
        append(name: name, type: "2", size: 0, mode: 0o777, linkName: target)
    }

    mutating func hardLink(_ name: String, to target: String) {
        append(name: name, type: "1", size: 0, mode: 0o644, linkName: target)
    }

    /// The archive with its two closing zero blocks.
    var archive: [UInt8] { bytes + [UInt8](repeating: 0, count: 1024) }

    private mutating func append(name: String, type: Character, size: Int, mode: Int, linkName: String = "") {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            for (index, byte) in text.utf8.prefix(width).enumerated() { header[offset + index] = byte }
        }
        func octal(_ value: Int, at offset: Int, width: Int) {
            let digits = String(value, radix: 8)
            put(String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits, at: offset, width: width - 1)
        }
        precondition(name.utf8.count <= 100 && linkName.utf8.count <= 100, "names longer than 100 bytes need a prefix")
        put(name, at: 0, width: 100)
        octal(mode, at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(1_700_000_000, at: 136, width: 12)
        put(String(type), at: 156, width: 1)
        put(linkName, at: 157, width: 100)
        put("ustar\u{0}00", at: 257, width: 8)
        put(String(repeating: " ", count: 8), at: 148, width: 8)
        let sum = header.reduce(0) { $0 + Int($1) }
        let digits = String(sum, radix: 8)
        put(String(repeating: "0", count: max(0, 6 - digits.count)) + digits + "\u{0} ", at: 148, width: 8)
        bytes += header
    }
}
