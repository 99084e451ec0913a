import Foundation
import OpenAPIRuntime

extension Configuration {
    /// How every generated server and client of buildchain's specs codes JSON: keys sorted, so
    /// bodies are stable, slashes unescaped, and dates in ISO 8601 (see `ISO8601Dates`).
    public static let buildchain = Configuration(
        dateTranscoder: ISO8601Dates(), jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes])
}

extension JSONDecoder {
    /// A decoder for the services' JSON read outside the generated code (event lines, stored
    /// documents), with `Configuration.buildchain`'s dates.
    public static func buildchain() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            try ISO8601Dates().decode(try decoder.singleValueContainer().decode(String.self))
        }
        return decoder
    }
}

extension JSONEncoder {
    /// An encoder writing as the generated servers and clients do with `Configuration.buildchain`
    /// (keys sorted, slashes unescaped, `ISO8601Dates`), for JSON written outside the generated
    /// code that must match it byte for byte.
    public static func buildchain() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(try ISO8601Dates().encode(date))
        }
        return encoder
    }
}
