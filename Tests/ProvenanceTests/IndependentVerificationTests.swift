import Digests
import Foundation
import Provenance
import Testing

/// securesystemslib (PyPI) checks what buildchain signs: the signature over its own PAE, the key
/// id recomputed from the public key, the subject against the artifact's bytes.
@Suite(.enabled(if: ProvenanceFixtures.hasSecuresystemslib))
struct IndependentVerificationTests {
    @Test(arguments: ["EC", "ED25519"])
    func securesystemslibAcceptsTheEnvelopeAndRefusesAnyChangedByte(algorithm: String) async throws {
        let fixtures = try ProvenanceFixtures()
        defer { fixtures.remove() }
        let key = try SigningKey(pem: try await fixtures.generateKey(algorithm))
        let publicKey = try fixtures.write(Array(key.verifyingKey.pem.utf8), as: "public.pem")
        let image = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let imagePath = try fixtures.write(image, as: "image.tar")
        let envelope = try ProvenanceFixtures.statement(about: image).signed(with: key)
        let envelopePath = try fixtures.write(try envelope.encoded(), as: "envelope.json")

        let accepted = try await fixtures.independentVerdict(envelope: envelopePath, publicKey: publicKey, artifact: imagePath)
        #expect(accepted == nil)

        // One byte of the statement changed: the signature no longer holds.
        var payload = Array(Data(base64Encoded: envelope.payload)!)
        let index = payload.firstIndex(of: UInt8(ascii: "r"))!
        payload[index] = UInt8(ascii: "R")
        var tampered = envelope
        tampered.payload = Data(payload).base64EncodedString()
        let tamperedPath = try fixtures.write(try tampered.encoded(), as: "tampered.json")
        let statementVerdict = try await fixtures.independentVerdict(
            envelope: tamperedPath, publicKey: publicKey, artifact: imagePath)
        #expect(statementVerdict?.contains("signature") == true)

        // One byte of the image changed: the subject no longer names it.
        var changedImage = image
        changedImage[100] ^= 0x80
        let changedPath = try fixtures.write(changedImage, as: "changed.tar")
        let imageVerdict = try await fixtures.independentVerdict(
            envelope: envelopePath, publicKey: publicKey, artifact: changedPath)
        #expect(imageVerdict?.contains("no subject") == true)
    }
}
