import Foundation

/// `timestamptz` in PostgreSQL's ISO text form (`2025-01-31 12:34:56.123456+00`), converted by
/// civil-calendar arithmetic (no `Calendar`, no time zone database) at microsecond precision.
enum PostgresTimestamp {
    static func format(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let (days, microsOfDay) = micros.floorDivided(by: 86_400_000_000)
        let (year, month, day) = civil(fromDays: days)
        let seconds = microsOfDay / 1_000_000
        let fraction = microsOfDay % 1_000_000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2)) "
            + "\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2))"
            + ".\(pad(fraction, 6))+00"
    }

    /// Parses `YYYY-MM-DD HH:MM:SS[.ffffff][±HH[:MM[:SS]]]` (DateStyle ISO); nil otherwise
    /// (`infinity`, BC dates, other DateStyles).
    static func parse(_ text: String) -> Date? {
        let utf8 = Array(text.utf8)
        var index = 0
        func number(digits: Int) -> Int64? {
            guard index + digits <= utf8.count else { return nil }
            var value: Int64 = 0
            for byte in utf8[index..<index + digits] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int64(byte - 48)
            }
            index += digits
            return value
        }
        func expect(_ character: UInt8) -> Bool {
            guard index < utf8.count, utf8[index] == character else { return false }
            index += 1
            return true
        }
        var yearDigits = 0
        while index + yearDigits < utf8.count, utf8[index + yearDigits] != UInt8(ascii: "-") { yearDigits += 1 }
        guard yearDigits >= 4, let year = number(digits: yearDigits), expect(UInt8(ascii: "-")),
            let month = number(digits: 2), expect(UInt8(ascii: "-")), let day = number(digits: 2),
            expect(UInt8(ascii: " ")) || expect(UInt8(ascii: "T")),
            let hour = number(digits: 2), expect(UInt8(ascii: ":")), let minute = number(digits: 2),
            expect(UInt8(ascii: ":")), let second = number(digits: 2)
        else { return nil }
        var micros: Int64 = 0
        if expect(UInt8(ascii: ".")) {
            var scale: Int64 = 100_000
            while index < utf8.count, utf8[index] >= 48, utf8[index] <= 57 {
                micros += Int64(utf8[index] - 48) * scale
                scale /= 10
                index += 1
            }
        }
        var offsetSeconds: Int64 = 0
        if index < utf8.count {
            let sign: Int64
            if expect(UInt8(ascii: "+")) {
                sign = 1
            } else if expect(UInt8(ascii: "-")) {
                sign = -1
            } else {
                return nil
            }
            guard let hours = number(digits: 2) else { return nil }
            var minutes: Int64 = 0
            var seconds: Int64 = 0
            if expect(UInt8(ascii: ":")) {
                guard let m = number(digits: 2) else { return nil }
                minutes = m
            }
            if expect(UInt8(ascii: ":")) {
                guard let s = number(digits: 2) else { return nil }
                seconds = s
            }
            offsetSeconds = sign * (hours * 3600 + minutes * 60 + seconds)
        }
        guard index == utf8.count, (1...12).contains(month), (1...31).contains(day) else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let epochSeconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(epochSeconds) + Double(micros) / 1_000_000)
    }

    // Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian, day 0 = 1970-01-01).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let remainder = self % divisor
        return remainder < 0 ? (self / divisor - 1, remainder + divisor) : (self / divisor, remainder)
    }
}
