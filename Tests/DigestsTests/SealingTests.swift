import Digests
import Foundation
import Testing

/// AES-256-GCM sealing of secrets at rest (`AES256GCM`, `SealingKeyring`).
@Suite struct SealingTests {
    static let key = try! SealingKeyring.Key(id: "k1", bytes: (0..<32).map { UInt8($0) })
    static let other = try! SealingKeyring.Key(id: "k2", bytes: (0..<32).map { UInt8(255 - $0) })

    /// The GCM specification's test case 16 (AES-256, 60-byte plaintext, 20 bytes of additional data).
    @Test func matchesTheGCMSpecificationsKnownAnswer() throws {
        let key = Hex.decode("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")!
        let plaintext = Hex.decode(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39")!
        let aad = Hex.decode("feedfacedeadbeeffeedfacedeadbeefabaddad2")!
        let nonce = Hex.decode("cafebabefacedbaddecaf888")!
        let box = try AES256GCM.seal(plaintext, key: key, nonce: nonce, context: aad)
        #expect(
            Hex.encode(box)
                == "cafebabefacedbaddecaf888"
                + "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
                + "76fc6ece0f4e1768cddf8853bb2d551b")
        #expect(try AES256GCM.open(box, key: key, context: aad) == plaintext)
    }

    @Test(arguments: ["", "s", "npm_3xAmPlE-token\nwith a second line and ünïcödé", String(repeating: "x", count: 100_000)])
    func roundTripsAndUsesAFreshNonceEachTime(text: String) throws {
        let keyring = SealingKeyring(current: Self.key)
        let first = try keyring.seal(Array(text.utf8), context: "job-1")
        let second = try keyring.seal(Array(text.utf8), context: "job-1")
        #expect(first.keyID == "k1")
        #expect(first.box != second.box, "a random nonce per seal")
        #expect(try keyring.open(keyID: first.keyID, box: first.box, context: "job-1") == Array(text.utf8))
        if text.count > 3 { #expect(!first.box.contains(text)) }
    }

    @Test func refusesAlteredBoxesAndOtherContexts() throws {
        let keyring = SealingKeyring(current: Self.key)
        let sealed = try keyring.seal(Array("NPM_TOKEN=abc".utf8), context: "job-1")
        var bytes = Array(Data(base64Encoded: sealed.box)!)
        for index in [0, 12, bytes.count / 2, bytes.count - 1] {
            var altered = bytes
            altered[index] ^= 0x01
            #expect(throws: SealingError.tampered) {
                try keyring.open(keyID: "k1", box: Data(altered).base64EncodedString(), context: "job-1")
            }
        }
        bytes.removeLast()
        #expect(throws: SealingError.tampered) {
            try keyring.open(keyID: "k1", box: Data(bytes).base64EncodedString(), context: "job-1")
        }
        #expect(throws: SealingError.tampered) { try keyring.open(keyID: "k1", box: sealed.box, context: "job-2") }
        #expect(throws: SealingError.tampered) { try keyring.open(keyID: "k1", box: "AAAA", context: "job-1") }
        #expect(throws: SealingError.tampered) { try keyring.open(keyID: "k1", box: "not base64!", context: "job-1") }
    }

    @Test func opensWithAPreviousKeyAfterRotationAndRefusesUnknownOrMismatchedIDs() throws {
        let old = SealingKeyring(current: Self.key)
        let sealed = try old.seal(Array("DB_PASS=pw".utf8), context: "job")
        let rotated = SealingKeyring(current: Self.other, previous: [Self.key])
        #expect(try rotated.open(keyID: sealed.keyID, box: sealed.box, context: "job") == Array("DB_PASS=pw".utf8))
        #expect(try rotated.seal([1], context: "job").keyID == "k2")

        let withoutOld = SealingKeyring(current: Self.other)
        #expect(throws: SealingError.unknownKey("k1")) {
            try withoutOld.open(keyID: "k1", box: sealed.box, context: "job")
        }
        // A box claimed by another configured key's id does not open: the id is authenticated.
        #expect(throws: SealingError.tampered) { try rotated.open(keyID: "k2", box: sealed.box, context: "job") }
    }

    @Test func refusesKeysThatAreNot32BytesOrHaveBadIDs() {
        #expect(throws: SealingError.invalidKey) { try SealingKeyring.Key(id: "k", base64: Data(count: 16).base64EncodedString()) }
        #expect(throws: SealingError.invalidKey) { try SealingKeyring.Key(id: "k", base64: "not base64") }
        #expect(throws: SealingError.unknownKey("bad id")) {
            try SealingKeyring.Key(id: "bad id", base64: Data(count: 32).base64EncodedString())
        }
        #expect((try? SealingKeyring.Key(id: "2026-12.a_b", base64: Data(count: 32).base64EncodedString())) != nil)
    }

    @Test func macsDependOnTheKeyAndTheText() {
        let one = SealingKeyring(current: Self.key)
        let two = SealingKeyring(current: Self.other)
        #expect(one.mac("a") == one.mac("a"))
        #expect(one.mac("a") != one.mac("b"))
        #expect(one.mac("a") != two.mac("a"))
        #expect(one.mac("a").count == 64)
    }
}
