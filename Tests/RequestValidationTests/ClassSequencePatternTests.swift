import Foundation
import Testing

@testable import RequestValidation

@Suite struct ClassSequencePatternTests {
    static let shaped = [
        "^[a-z0-9][a-z0-9._-]*$", "^[A-Za-z_][A-Za-z0-9_]{0,127}$", "^[A-Za-z_][A-Za-z0-9_]*$",
        "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", "^[0-9a-f]{64}$", "^[0-9a-fA-F]{1,64}$", "^[a-c]*[a-c]$",
        "^[ab]?[b]+[-a]{2,}$", "^[a^]{0,3}$", "^[.]{2}[a-]{1,2}$",
    ]

    /// Every pattern of the specs' shape answers as ICU does, on random texts of its own bytes,
    /// neighbours, non-ASCII letters and line ends, short and long.
    @Test(arguments: shaped)
    func matchesAsICUDoes(source: String) throws {
        let pattern = try ECMAPattern(source)
        #expect(pattern.isMatchedByBytes)
        let pieces = ["a", "b", "c", "z", "A", "Z", "0", "9", "f", "g", "_", "-", ".", "^", "/", " ", "é", "٣", "\n", "ab", "0f"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3_000 {
            let text = (0..<Int.random(in: 0...70, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            #expect(pattern.matches(text) == pattern.matchesByICU(text), "\(source) on \(text.debugDescription)")
        }
        let long = String(repeating: "a", count: 64)
        #expect(pattern.matches(long) == pattern.matchesByICU(long))
        #expect(pattern.matches(long + "\n") == pattern.matchesByICU(long + "\n"))
    }

    /// Escapes, groups, negated classes and literals outside classes stay with ICU.
    @Test(arguments: [
        "^[A-Za-z0-9_-]+/[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)?$", "^[^a]+$", "^\\d+$", "[a-z]+", "^[a-z]+", "^a[b]$", "^[a-z]{2,}x$",
    ])
    func otherPatternsStayWithICU(source: String) throws {
        #expect(try !ECMAPattern(source).isMatchedByBytes)
    }
}
