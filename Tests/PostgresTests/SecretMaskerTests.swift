import Foundation
import Records
import Testing

/// Masking a run's secret values by value, wherever they appear (`SecretMasker`).
@Suite struct SecretMaskerTests {
    @Test func masksEveryOccurrenceWhateverSurroundsIt() {
        let masker = SecretMasker(values: ["npm_abc123", "pw-9"])
        #expect(masker.mask("token npm_abc123 and npm_abc123npm_abc123 then pw-9.") == "token *** and ****** then ***.")
        #expect(masker.mask("nothing here") == "nothing here")
        #expect(SecretMasker.none.mask("npm_abc123") == "npm_abc123")
        #expect(SecretMasker(values: ["", ""]).isEmpty)
    }

    @Test func masksALongerValueWholeBeforeAShorterOneInsideIt() {
        let masker = SecretMasker(values: ["abcd", "xxabcdxx"])
        #expect(masker.mask("xxabcdxx abcd") == "*** ***")
    }

    @Test func masksJSONEscapedFormsAndEachLineOfAMultiLineValue() {
        let value = "line-one/\"quoted\"\nsecond-line-value\nab"
        let masker = SecretMasker(values: [value])
        #expect(masker.mask(#"{"log":"line-one\/\"quoted\"\nsecond-line-value\nab"}"#) == #"{"log":"***"}"#)
        #expect(masker.mask(#"{"log":"line-one/\"quoted\"\nsecond-line-value\nab"}"#) == #"{"log":"***"}"#)
        #expect(masker.mask("second-line-value") == "***", "a builder prints line by line")
        #expect(masker.mask("ab") == "ab", "lines shorter than 4 bytes alone are not masked")
    }

    @Test func masksStringsAndKeysOfJSONWithoutBreakingIt() throws {
        let masker = SecretMasker(values: ["1", "s3cr3t"])
        let masked = try masker.mask(jsonText: #"{"n":1,"list":["a s3cr3t b",1.5,true,null],"s3cr3t":"1"}"#)
        #expect(masked == #"{"***":"***","list":["a *** b",1.5,true,null],"n":1}"#)
        #expect(try SecretMasker.none.mask(jsonText: "{not json") == "{not json", "nothing to mask: returned as is")
        #expect(throws: (any Error).self) { try masker.mask(jsonText: "{not json") }
    }

    @Test func keepsMultiByteTextAroundAMatchIntact() {
        let masker = SecretMasker(values: ["ünï-välüe"])
        #expect(masker.mask("→ ünï-välüe ←") == "→ *** ←")
    }
}
