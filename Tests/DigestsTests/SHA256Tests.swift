import Digests
import Testing

/// NIST FIPS 180-2 / CAVS example vectors.
@Suite struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
        (
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
        ),
    ])
    func hashesPublishedVectors(message: String, expected: String) {
        #expect(SHA256.hash(message).hex == expected)
    }

    @Test func streamsOneMillionAsInUnevenChunks() {
        var hasher = SHA256()
        let chunkSizes = [1, 63, 64, 65, 999, 4096]
        var remaining = 1_000_000
        var index = 0
        while remaining > 0 {
            let size = min(chunkSizes[index % chunkSizes.count], remaining)
            hasher.update([UInt8](repeating: UInt8(ascii: "a"), count: size))
            remaining -= size
            index += 1
        }
        #expect(hasher.finalize().hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func hexRoundTripsAndRejectsGarbage() {
        #expect(Hex.decode("00ffAB10") == [0x00, 0xff, 0xab, 0x10])
        #expect(Hex.encode([0x00, 0xff, 0xab, 0x10]) == "00ffab10")
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }
}
