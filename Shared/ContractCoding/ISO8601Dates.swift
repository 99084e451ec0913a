import Foundation
import OpenAPIRuntime

/// Dates as the services write them: ISO 8601, read with or without fractional seconds.
public struct ISO8601Dates: DateTranscoder {
    public init() {}

    /// `2026-12-05T01:23:03Z`, as `date.formatted(.iso8601)` writes it, by hand from the
    /// Gregorian calendar's start (1582-10-15) to the year 9999, where both count days alike:
    /// the format style was a tenth of a submit's response encoding.
    public func encode(_ date: Date) throws -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        guard let text = Self.utcText(seconds: seconds) else { return date.formatted(.iso8601) }
        return String(decoding: text + [UInt8(ascii: "Z")], as: UTF8.self)
    }

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

    /// `YYYY-MM-DDTHH:MM:SS` in UTC (proleptic Gregorian) for whole seconds since 1970; nil
    /// before 1582-10-15, where Foundation's calendar is Julian, and after the year 9999.
    public static func utcText(seconds: Double) -> [UInt8]? {
        guard seconds >= -12_219_292_800, seconds < 253_402_300_800 else { return nil }
        var time = Int(seconds)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return nil }
        var text: [UInt8] = []
        text.reserveCapacity(24)
        func digits(_ value: Int32, _ count: Int) {
            var divisor: Int32 = 1
            for _ in 1..<count { divisor *= 10 }
            while divisor > 0 {
                text.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        digits(parts.tm_year + 1900, 4)
        text.append(UInt8(ascii: "-"))
        digits(parts.tm_mon + 1, 2)
        text.append(UInt8(ascii: "-"))
        digits(parts.tm_mday, 2)
        text.append(UInt8(ascii: "T"))
        digits(parts.tm_hour, 2)
        text.append(UInt8(ascii: ":"))
        digits(parts.tm_min, 2)
        text.append(UInt8(ascii: ":"))
        digits(parts.tm_sec, 2)
        return text
    }
}
