import Foundation

/// Pieces of artifact keys (and paths) that hide a separator or a dot segment from a check
/// made on Swift `Character`s: a combining mark after `/` makes `/\u{0301}` one Character, a
/// prepended concatenation mark before `/` makes `\u{0600}/` one. Fullwidth and percent-encoded
/// look-alikes are plain name characters to the filesystem and S3 and must stay so.
enum HiddenSeparatorKeys {
    static let separators = ["/", "//", "\\"]
    static let dots = [".", "..", "/../", "/./"]
    static let combiningMarks = ["\u{0301}", "\u{0300}", "\u{20D2}", "\u{FE0F}"]
    static let prependedMarks = [
        "\u{0600}", "\u{0601}", "\u{0602}", "\u{0603}", "\u{0604}", "\u{0605}", "\u{06DD}", "\u{070F}", "\u{08E2}",
        "\u{110BD}",
    ]
    static let fullwidth = ["\u{FF0F}", "\u{FF0E}", "\u{FF0E}\u{FF0E}", "\u{FF3C}", "\u{2215}", "\u{2024}"]
    /// Literal text of the key (the URL encodes its `%` again): never decoded twice.
    static let percentEncoded = ["%2F", "%2E", "%2E%2E", "%5C", "%252F", "%C0%AF", "%00"]
    static let plain = ["a", "b", "esc", "x.tar"]

    static let pieces = separators + dots + combiningMarks + prependedMarks + fullwidth + percentEncoded + plain

    /// Keys the attack and its relatives use; all must be refused (a `..`, `.` or empty
    /// segment once split on bytes). As sent on the wire (percent-encoded).
    static let refusedOnTheWire = [
        "p%D8%80/%2E%2E/%2E%2E/%CC%81%D8%80/%2E%2E/%2E%2E/%CC%81esc",
        "%D8%80/../x", "a/%2E%2E/%CC%81b", "%DB%9D/%2E/x", "a%DC%8F//b", "%E0%A3%A2/..%2F..%2Fx",
        "%F0%91%82%BD/%2E%2E/%2E%2E/x", "x/..%CC%81/../../y",
    ]

    /// `key` as a URL path: every byte percent-encoded but letters, digits, `-`, `_`, `~` and `/`.
    static func wire(_ key: String) -> String {
        var text = ""
        for byte in key.utf8 {
            let scalar = Unicode.Scalar(byte)
            if byte < 0x80, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-_~/".unicodeScalars.contains(scalar) {
                text.unicodeScalars.append(scalar)
            } else {
                text += String(format: "%%%02X", byte)
            }
        }
        return text
    }
}
