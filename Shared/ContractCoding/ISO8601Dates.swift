import Foundation
import OpenAPIRuntime

/// Dates as the services write them: ISO 8601, read with or without fractional seconds.
public struct ISO8601Dates: DateTranscoder {
    public init() {}

    public func encode(_ date: Date) throws -> String { date.formatted(.iso8601) }

    public func decode(_ text: String) throws -> Date {
        guard let date = Self.date(from: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "not an ISO 8601 date: \(text)"))
        }
        return date
    }

    public static func date(from text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
