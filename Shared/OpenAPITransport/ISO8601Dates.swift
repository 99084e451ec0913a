import Foundation
import OpenAPIRuntime

/// Dates as the services write them: ISO 8601, with or without fractional seconds.
public struct ISO8601Dates: DateTranscoder {
    public init() {}

    public func encode(_ date: Date) throws -> String { date.formatted(.iso8601) }

    public func decode(_ text: String) throws -> Date {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "\(text) is not an ISO 8601 date"))
    }
}

extension Configuration {
    /// The generated clients' configuration for buildchain's services.
    public static var buildchain: Configuration { Configuration(dateTranscoder: ISO8601Dates()) }
}
