/// Makes every text parameter something PostgreSQL stores: the one place all of them pass
/// through (`LibPQConnection.execute`), so no caller can forget it.
///
/// PostgreSQL refuses U+0000 in `text` (and libpq would cut a parameter at it), and refuses the
/// JSON escape `\u0000` in `jsonb` (`22P05 unsupported Unicode escape sequence`). Both are
/// replaced visibly with U+FFFD. Git's stderr, a builder's log, a registry's or S3's error body
/// carry such bytes. Invalid UTF-8 never reaches here: a Swift `String` holds valid UTF-8 only,
/// and the conversions from process output and response bodies (`String(decoding:as:)`)
/// already replace invalid sequences with U+FFFD.
enum StorableText {
    /// `text` with every NUL replaced by U+FFFD, and when `json`, every `\u0000` escape by `\ufffd`.
    static func storable(_ text: String, json: Bool) -> String {
        let bytes = text.utf8
        guard bytes.contains(0) || (json && bytes.contains(UInt8(ascii: "\\"))) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 8)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == 0 {
                out.append(contentsOf: replacement)
                index = bytes.index(after: index)
            } else if json && byte == UInt8(ascii: "\\") {
                // An escape: the backslash and the character after it go together, so `\\u0000`
                // (an escaped backslash, then "u0000") is left alone.
                let next = bytes.index(after: index)
                if bytes[next...].starts(with: nulEscape.dropFirst()) {
                    out.append(contentsOf: replacementEscape)
                    index = bytes.index(next, offsetBy: nulEscape.count - 1)
                } else if next != bytes.endIndex, bytes[next] != 0 {
                    out.append(byte)
                    out.append(bytes[next])
                    index = bytes.index(after: next)
                } else {
                    out.append(byte)
                    index = next
                }
            } else {
                out.append(byte)
                index = bytes.index(after: index)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The 1-based numbers of the parameters `sql` casts to `json` or `jsonb` (`$3::jsonb`): every
    /// jsonb parameter of ours is written that way.
    static func jsonParameters(in sql: String) -> Set<Int> {
        var numbers: Set<Int> = []
        let bytes = Array(sql.utf8)
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "$") else {
                index += 1
                continue
            }
            var end = index + 1
            var number = 0
            while end < bytes.count, let digit = Self.digit(bytes[end]) {
                number = number * 10 + digit
                end += 1
            }
            if end > index + 1, Self.hasJSONCast(bytes[end...]) { numbers.insert(number) }
            index = end
        }
        return numbers
    }

    private static let replacement = Array("\u{FFFD}".utf8)
    private static let nulEscape = Array("\\u0000".utf8)
    private static let replacementEscape = Array("\\ufffd".utf8)

    private static func digit(_ byte: UInt8) -> Int? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
    }

    private static func hasJSONCast(_ rest: ArraySlice<UInt8>) -> Bool {
        let cast = Array("::json".utf8)
        guard rest.count >= cast.count else { return false }
        return zip(rest.prefix(cast.count), cast).allSatisfy { $0 | 0x20 == $1 | 0x20 }
    }
}
