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
