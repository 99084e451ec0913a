import Foundation
import Postgres
import Testing

@Suite struct TimestampTests {
    @Test(arguments: [
        (0.0, "1970-01-01 00:00:00.000000+00"),
        (1_700_000_000.123456, "2023-11-14 22:13:20.123456+00"),
        (-1.5, "1969-12-31 23:59:58.500000+00"),
        (951_782_400, "2000-02-29 00:00:00.000000+00"),
        (253_402_300_799, "9999-12-31 23:59:59.000000+00"),
    ])
    func encodesUTCWithMicroseconds(seconds: Double, text: String) {
        #expect(Date(timeIntervalSince1970: seconds).postgresText == text)
        #expect(Date(postgresText: text).map { abs($0.timeIntervalSince1970 - seconds) < 0.000_001 } == true)
    }

    @Test(
        arguments: [
            ("2025-01-31 17:04:56.5+05:30", 1_738_323_296.5),
            ("2025-01-31 11:34:56-00", 1_738_323_296),
            ("2025-01-31 06:34:56.25-05", 1_738_323_296.25),
            ("1883-11-18 12:00:00+00:53:28", -2_717_672_008),
            ("2025-01-31T11:34:56Z", nil),
            ("infinity", nil),
            ("2025-13-01 00:00:00+00", nil),
            ("2025-01-31", nil),
        ] as [(String, Double?)])
    func parsesServerOutputWithAnyOffset(text: String, seconds: Double?) {
        let parsed = Date(postgresText: text)?.timeIntervalSince1970
        if let seconds {
            #expect(parsed.map { abs($0 - seconds) < 0.000_001 } == true)
        } else {
            #expect(parsed == nil)
        }
    }
}
