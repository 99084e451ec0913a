import ContractCoding
import Foundation
import Testing

@testable import BuildchainCLI

@Suite struct FormattingTests {
    @Test(
        arguments: [
            (0, "0ms"), (850, "850ms"), (1000, "1.0s"), (12_345, "12.3s"), (59_999, "60.0s"), (60_000, "1m00s"),
            (125_000, "2m05s"), (3_599_000, "59m59s"), (3_720_000, "1h02m"), (-5, "0ms"),
        ] as [(Int64, String)])
    func durations(milliseconds: Int64, text: String) {
        #expect(Formatting.duration(milliseconds: milliseconds) == text)
    }

    @Test func aMissingDurationIsADash() {
        #expect(Formatting.duration(nil) == "-")
    }

    @Test(
        arguments: [
            (0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"), (12 * 1024 * 1024, "12.0 MiB"),
            (1_288_490_189, "1.2 GiB"), (5 * 1024 * 1024 * 1024 * 1024, "5.0 TiB"),
        ] as [(Int64, String)])
    func sizes(bytes: Int64, text: String) {
        #expect(Formatting.size(bytes: bytes) == text)
    }

    @Test func elapsedStampsArePaddedToLineUp() {
        #expect(Formatting.elapsedStamp(seconds: 12.34) == "[  12.3s]")
        #expect(Formatting.elapsedStamp(seconds: 0) == "[   0.0s]")
        #expect(Formatting.elapsedStamp(seconds: -3) == "[   0.0s]")
    }

    @Test func timestampsUseTheGivenTimeZone() throws {
        let date = try #require(ISO8601Dates.date(from: "2025-03-04T15:06:07Z"))
        #expect(
            Formatting.timestamp(date, timeZone: try #require(TimeZone(identifier: "UTC"))) == "2025-03-04 15:06:07")
        #expect(Formatting.timestamp(nil) == "-")
    }

    @Test func tablesAlignColumnsWithoutTrailingSpaces() {
        let table = Formatting.table([
            ["ID", "STATE", "NOTE"], ["a", "succeeded", ""], ["bbbb", "failed", "BUILD_FAILED"],
        ])
        #expect(
            table == """
                ID    STATE      NOTE
                a     succeeded
                bbbb  failed     BUILD_FAILED
                """)
    }
}
