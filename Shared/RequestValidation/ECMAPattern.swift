import Foundation

/// A JSON Schema `pattern` (an ECMA-262 regular expression, unanchored) compiled for ICU.
/// ICU and ECMA differ where our patterns could notice: ICU's `$` also matches before a final
/// line terminator (so `^[a-z]+$` would take "abc\n"), and its `\d`, `\w` take non-ASCII digits
/// and letters. Those are rewritten to their ECMA meaning: `$` to `\z`, `\d` to `0-9`, `\w` to
/// `A-Za-z0-9_` (`\D`, `\W` to their complements).
struct ECMAPattern: @unchecked Sendable {
    let source: String
    private let expression: NSRegularExpression
    private let classSequence: ClassSequencePattern?

    init(_ source: String) throws {
        self.source = source
        expression = try NSRegularExpression(pattern: Self.icu(source))
        classSequence = ClassSequencePattern(source)
    }

    func matches(_ text: String) -> Bool {
        if let classSequence { return classSequence.matches(text) }
        return matchesByICU(text)
    }

    func matchesByICU(_ text: String) -> Bool {
        expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    var isMatchedByBytes: Bool { classSequence != nil }

    /// The ICU spelling of an ECMA pattern (without the `u` or `m` flags, which JSON Schema does not use).
    static func icu(_ source: String) -> String {
        var result = ""
        var inClass = false
        var characters = source.makeIterator()
        while let character = characters.next() {
            switch character {
            case "\\":
                guard let escaped = characters.next() else {
                    result.append("\\")
                    continue
                }
                switch (escaped, inClass) {
                case ("d", false): result += "[0-9]"
                case ("d", true): result += "0-9"
                case ("D", false): result += "[^0-9]"
                case ("w", false): result += "[A-Za-z0-9_]"
                case ("w", true): result += "A-Za-z0-9_"
                case ("W", false): result += "[^A-Za-z0-9_]"
                default: result += "\\\(escaped)"
                }
            case "[" where !inClass:
                inClass = true
                result.append(character)
            case "]" where inClass:
                inClass = false
                result.append(character)
            case "$" where !inClass:
                result += "\\z"
            default:
                result.append(character)
            }
        }
        return result
    }
}
