import Foundation
import OpenAPIRuntime

/// The gateway's dates: ISO 8601, with or without fractional seconds (the generated client's
/// default transcoder takes only the form without).
struct GatewayDates: DateTranscoder {
    func encode(_ date: Date) throws -> String { date.formatted(.iso8601) }

    func decode(_ text: String) throws -> Date {
        guard let date = Self.date(from: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "not an ISO 8601 date: \(text)"))
        }
        return date
    }

    static func date(from text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// A decoder for the gateway's JSON outside the generated client (the events' `data`).
    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            return try GatewayDates().decode(try container.decode(String.self))
        }
        return decoder
    }
}
