import Foundation

/// Replaces every occurrence of a run's secret values with `***`, in any text bound for a
/// record, an event, a log line, a result, an error or a response — by value, wherever it
/// appears, whatever key (if any) it sits under. `Redaction`'s name heuristics stay as a
/// backstop for values nobody declared.
///
/// Besides each value itself, its JSON-escaped form (a value quoted inside a JSON string, a
/// log line holding JSON) and each line of at least 4 bytes of a multi-line value (builders
/// print line by line) are masked.
public struct SecretMasker: Sendable {
    public static let none = SecretMasker(values: [])

    /// What is searched for, longest first (so a value containing another is masked whole).
    private let needles: [[UInt8]]

    public init(values: some Sequence<String>) {
        var needles = Set<[UInt8]>()
        for value in values where !value.isEmpty {
            needles.insert(Array(value.utf8))
            for escaped in Self.jsonEscaped(value) { needles.insert(Array(escaped.utf8)) }
            let lines = value.split(whereSeparator: \.isNewline)
            if lines.count > 1 {
                for line in lines where line.utf8.count >= 4 { needles.insert(Array(line.utf8)) }
            }
        }
        self.needles = needles.sorted { $0.count != $1.count ? $0.count > $1.count : $0.lexicographicallyPrecedes($1) }
    }

    public var isEmpty: Bool { needles.isEmpty }

    /// `text` with every occurrence of a secret replaced by `***`.
    public func mask(_ text: String) -> String {
        guard !needles.isEmpty else { return text }
        var bytes = Array(text.utf8)
        var changed = false
        for needle in needles where Self.replace(needle, in: &bytes) { changed = true }
        return changed ? String(decoding: bytes, as: UTF8.self) : text
    }

    /// A JSON document with every string in it (keys and values) masked; its structure is kept
    /// whatever the values are (a secret `1` does not touch the number 1). Output keys are sorted.
    public func mask(jsonText: String) throws -> String {
        guard !needles.isEmpty else { return jsonText }
        let value = try JSONSerialization.jsonObject(with: Data(jsonText.utf8), options: [.fragmentsAllowed])
        let data = try JSONSerialization.data(
            withJSONObject: mask(value: value), options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    private func mask(value: Any) -> Any {
        switch value {
        case let object as [String: Any]:
            var masked: [String: Any] = [:]
            for (key, child) in object { masked[mask(key)] = mask(value: child) }
            return masked
        case let array as [Any]: return array.map(mask(value:))
        case let string as String: return mask(string)
        default: return value
        }
    }

    /// Replaces every occurrence of `needle` in `bytes`; whether there was one. UTF-8 is
    /// self-synchronising, so a match of a whole encoded value never splits a character.
    private static func replace(_ needle: [UInt8], in bytes: inout [UInt8]) -> Bool {
        guard let first = needle.first, bytes.count >= needle.count else { return false }
        let mask = Array(Redaction.mask.utf8)
        var output: [UInt8] = []
        var index = 0
        var found = false
        var copiedUpTo = 0
        let last = bytes.count - needle.count
        while index <= last {
            if bytes[index] == first && bytes[index..<(index + needle.count)].elementsEqual(needle) {
                if !found {
                    output.reserveCapacity(bytes.count)
                    found = true
                }
                output += bytes[copiedUpTo..<index]
                output += mask
                index += needle.count
                copiedUpTo = index
            } else {
                index += 1
            }
        }
        guard found else { return false }
        output += bytes[copiedUpTo...]
        bytes = output
        return true
    }

    /// The value as it appears between the quotes of a JSON string, with `/` escaped and not.
    private static func jsonEscaped(_ value: String) -> [String] {
        [[], [.withoutEscapingSlashes]].compactMap { (options: JSONEncoder.OutputFormatting) in
            let encoder = JSONEncoder()
            encoder.outputFormatting = options
            guard let data = try? encoder.encode(value) else { return nil }
            return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
        }
    }
}
