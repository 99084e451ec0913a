import Foundation

/// Masks secrets in JSON before it is stored or logged.
///
/// Values under secret-looking keys become `"***"` (whatever their type; JSON null stays
/// null), and every string loses the userinfo of the URLs it contains
/// (`https://user:tok@host/x` → `https://***@host/x`). Artifact keys, named `key`, are kept.
public enum Redaction {
    public static let mask = "***"

    /// Redacts a JSON document (object, array or scalar). Output keys are sorted.
    public static func redact(json: Data) throws -> Data {
        let value = try JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed])
        return try JSONSerialization.data(
            withJSONObject: redact(value: value), options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes])
    }

    /// `redact(json:)` for JSON text.
    public static func redact(jsonText: String) throws -> String {
        String(decoding: try redact(json: Data(jsonText.utf8)), as: UTF8.self)
    }

    /// Whether a key names a secret: contains token, password, passwd, secret, credential,
    /// authorization, access_key, private_key or api_key once camelCase and dashes are
    /// folded to snake_case (`accessKeyId` → `access_key_id`).
    public static func isSecretKey(_ key: String) -> Bool {
        let name = asciiSnakeCase(key) ?? Array(snakeCase(key).utf8)
        // Searched as bytes: String.contains(String) went through Foundation's CFStringFind, a
        // noticeable share of a status read's CPU (every key of the job's request is checked).
        return secretKeyFragments.contains { pattern in
            guard name.count >= pattern.count else { return false }
            return (0...(name.count - pattern.count)).contains { name[$0..<($0 + pattern.count)].elementsEqual(pattern) }
        } || name.elementsEqual("apikey".utf8)
    }

    /// Replaces the userinfo of every `scheme://userinfo@` in `text` with `***`.
    public static func redactURLUserinfo(_ text: String) -> String {
        // Most strings hold no URL with userinfo: a byte scan, not Foundation's `range(of:)` and
        // a Character at a time, tells (a repository URL was a fiftieth of a submit's CPU).
        guard text.utf8.withContiguousStorageIfAvailable(mayHoldUserinfo) ?? true else { return text }
        return maskingUserinfo(text)
    }

    /// `redactURLUserinfo` without the byte scan that tells when it has nothing to do.
    static func maskingUserinfo(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let separator = rest.range(of: "://") {
            result += rest[..<separator.upperBound]
            rest = rest[separator.upperBound...]
            // The authority ends at the first '/', '?', '#' or whitespace; userinfo is before its last '@'.
            let authority = rest.prefix { !"/?#".contains($0) && !$0.isWhitespace }
            if let at = authority.lastIndex(of: "@"), schemeIsValid(result) {
                result += mask
                rest = rest[at...]
            }
        }
        return result + rest
    }

    private static let secretKeyFragments = [
        "token", "password", "passwd", "secret", "credential", "authorization", "access_key", "private_key",
        "api_key",
    ].map { Array($0.utf8) }

    private static func redact(value: Any) -> Any {
        switch value {
        case let object as [String: Any]:
            var redacted: [String: Any] = [:]
            for (key, child) in object {
                redacted[key] = isSecretKey(key) && !(child is NSNull) ? mask : redact(value: child)
            }
            return redacted
        case let array as [Any]:
            return array.map(redact(value:))
        case let string as String:
            return redactURLUserinfo(string)
        default:
            return value
        }
    }

    /// Whether some "://" in `bytes` is followed by an authority that may hold an `@`: one with
    /// an `@` before its first `/`, `?`, `#` or ASCII whitespace, or with a non-ASCII byte up to
    /// just after that end (Unicode whitespace or a combining mark, which the Character scan
    /// that masks reads differently); false means `redactURLUserinfo` leaves the text as it is.
    private static func mayHoldUserinfo(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count >= 3 else { return false }
        for separator in 0..<(bytes.count - 2)
        where bytes[separator] == UInt8(ascii: ":") && bytes[separator + 1] == UInt8(ascii: "/")
            && bytes[separator + 2] == UInt8(ascii: "/")
        {
            var index = separator + 3
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "@") || byte >= 0x80 { return true }
                if byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#")
                    || byte == 0x20 || (0x09...0x0D).contains(byte)
                {
                    if index + 1 < bytes.count, bytes[index + 1] >= 0x80 { return true }
                    break
                }
                index += 1
            }
        }
        return false
    }

    /// `snakeCase` of an ASCII key, byte by byte (Unicode's case properties, per character, were
    /// most of the check's cost); nil for any other key.
    private static func asciiSnakeCase(_ key: String) -> [UInt8]? {
        var name: [UInt8] = []
        name.reserveCapacity(key.utf8.count + 4)
        var previous: UInt8?
        for byte in key.utf8 {
            guard byte < 0x80 else { return nil }
            let isUpper = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            if isUpper, let previous,
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(previous) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(previous)
            {
                name.append(UInt8(ascii: "_"))
            }
            name.append(byte == UInt8(ascii: "-") ? UInt8(ascii: "_") : isUpper ? byte + 0x20 : byte)
            previous = byte
        }
        return name
    }

    private static func snakeCase(_ key: String) -> String {
        var name = ""
        var previous: Character?
        for character in key {
            if character.isUppercase, let previous, previous.isLowercase || previous.isNumber { name += "_" }
            name += character == "-" ? "_" : character.lowercased()
            previous = character
        }
        return name
    }

    /// Whether `text` ends in a URL scheme (`[A-Za-z][A-Za-z0-9+.-]*://`).
    private static func schemeIsValid(_ text: String) -> Bool {
        let scheme = text.dropLast(3).reversed().prefix {
            $0.isASCII && ($0.isLetter || $0.isNumber || "+.-".contains($0))
        }
        return scheme.last?.isLetter == true
    }
}
