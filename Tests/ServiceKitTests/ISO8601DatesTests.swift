import ContractCoding
import Foundation
import Testing

@Suite struct ISO8601DatesTests {
    /// The hand-written encoding is the format style's, text for text: random instants from
    /// year 1 to 9999 with fractions (before 1582-10-15 it hands over to the format style), and
    /// the edges (epoch, leap days, year ends, before 1970, the Gregorian calendar's first day).
    @Test func encodesAsTheFormatStyleDoes() throws {
        var generator = SystemRandomNumberGenerator()
        let edges: [Double] = [0, -0.25, -1, 0.999, 951_782_400.5, 1_709_164_799.999, 4_102_444_799, -62_135_596_800, 253_402_300_799.9, -12_219_292_800, -12_219_292_800.5]
        let instants = edges + (0..<5_000).map { _ in Double.random(in: -62_135_596_800..<253_402_300_800, using: &generator) }
        for seconds in instants {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(try ISO8601Dates().encode(date) == date.formatted(.iso8601), "\(seconds)")
        }
    }
}
