import Foundation

/// How numbers, dates and tables read in text output.
enum Formatting {
    /// `850ms`, `12.3s`, `2m05s`, `1h02m`.
    static func duration(milliseconds: Int64) -> String {
        let milliseconds = max(0, milliseconds)
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        if milliseconds < 60_000 { return String(format: "%.1fs", Double(milliseconds) / 1000) }
        let seconds = milliseconds / 1000
        if seconds < 3600 { return String(format: "%dm%02ds", seconds / 60, seconds % 60) }
        return String(format: "%dh%02dm", seconds / 3600, seconds % 3600 / 60)
    }

    static func duration(_ milliseconds: Int64?) -> String {
        milliseconds.map { duration(milliseconds: $0) } ?? "-"
    }

    /// `512 B`, `1.5 KiB`, `12.0 MiB`, `1.2 GiB`.
    static func size(bytes: Int64) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        var value = Double(bytes) / 1024
        for unit in ["KiB", "MiB", "GiB", "TiB"] {
            if value < 1024 || unit == "TiB" { return String(format: "%.1f", value) + " " + unit }
            value /= 1024
        }
        return "\(bytes) B"
    }

    /// The progress prefix: `[  12.3s]`, seconds since the job was submitted.
    static func elapsedStamp(seconds: Double) -> String {
        String(format: "[%6.1fs]", max(0, seconds))
    }

    /// `2025-03-04 15:06:07` in the given time zone (the local one by default).
    static func timestamp(_ date: Date?, timeZone: TimeZone = .current) -> String {
        guard let date else { return "-" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: date)
    }

    /// Left-aligned columns two spaces apart; the first row is the header.
    static func table(_ rows: [[String]]) -> String {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in
            rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0
        }
        return rows.map { row in
            var line = row.enumerated().map { column, cell in
                cell + String(repeating: " ", count: widths[column] - cell.count)
            }
            .joined(separator: "  ")
            while line.last == " " { line.removeLast() }
            return line
        }
        .joined(separator: "\n")
    }
}
