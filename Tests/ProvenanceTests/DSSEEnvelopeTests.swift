import Digests
import Foundation
import Provenance
import Testing

@Suite struct DSSEEnvelopeTests {
    @Test func paeIsTheSpecsEncoding() {
        // secure-systems-lab/dsse protocol.md's example.
        let pae = DSSEEnvelope.pae(type: "http://example.com/HelloWorld", body: Array("hello world".utf8))
        #expect(String(decoding: pae, as: UTF8.self) == "DSSEv1 29 http://example.com/HelloWorld 11 hello world")
    }

    @Test(arguments: ["EC", "ED25519"])
    func signedStatementVerifiesAndTamperingIsCaught(algorithm: String) async throws {
        let fixtures = try ProvenanceFixtures()
        defer { fixtures.remove() }
        let key = try SigningKey(pem: try await fixtures.generateKey(algorithm))
        #expect(key.algorithm == (algorithm == "EC" ? .ecdsaP256 : .ed25519))
        let artifact = Array("image tarball bytes".utf8)
        let statement = ProvenanceFixtures.statement(about: artifact)
        let envelope = try statement.signed(with: key)
        #expect(envelope.signatures.map(\.keyid) == [key.verifyingKey.keyID])

        let verified = try InTotoStatement.verified(envelope, with: key.verifyingKey)
        #expect(verified == statement)
        try verified.requireSubject(sha256: "sha256:" + SHA256.hash(artifact).hex)
        #expect(throws: ProvenanceError.self) { try verified.requireSubject(sha256: SHA256.hash(artifact + [0]).hex) }

        var payload = Array(Data(base64Encoded: envelope.payload)!)
        payload[payload.count / 2] ^= 0x01
        var tampered = envelope
        tampered.payload = Data(payload).base64EncodedString()
        #expect(throws: ProvenanceError.badSignature(keyID: key.verifyingKey.keyID)) {
            try tampered.verifiedPayload(with: key.verifyingKey)
        }
        let stranger = try SigningKey(pem: try await fixtures.generateKey(algorithm))
        #expect(throws: ProvenanceError.self) { try InTotoStatement.verified(envelope, with: stranger.verifyingKey) }
    }

    @Test func publicKeyPEMReadsBackToTheSameKey() async throws {
        let fixtures = try ProvenanceFixtures()
        defer { fixtures.remove() }
        let key = try SigningKey(pem: try await fixtures.generateKey("EC"))
        let pem = key.verifyingKey.pem
        #expect(pem.hasPrefix("-----BEGIN PUBLIC KEY-----"))
        let reread = try VerifyingKey(pem: Array(pem.utf8))
        #expect(reread.keyID == key.verifyingKey.keyID)
        let signature = try key.sign(Array("message".utf8))
        #expect(reread.isValidSignature(signature, for: Array("message".utf8)))
        #expect(!reread.isValidSignature(signature, for: Array("massage".utf8)))
    }

    @Test func refusesKeysItCannotUseWithoutShowingThem() async throws {
        let fixtures = try ProvenanceFixtures()
        defer { fixtures.remove() }
        let rsa = try await fixtures.generateKey("RSA")
        #expect(throws: SigningKeyError.unsupportedAlgorithm) { try SigningKey(pem: rsa) }
        #expect(throws: SigningKeyError.unreadable) { try SigningKey(pem: Array("-----BEGIN PRIVATE KEY-----\nnope\n".utf8)) }
        let key = try SigningKey(pem: try await fixtures.generateKey("ED25519"))
        #expect(!"\(key)".contains("PRIVATE"))
        #expect("\(key)".contains(key.verifyingKey.keyID))
    }
}

/// What signing and verifying cost per build (printed as `name = value` lines for the report).
@Suite struct ProvenanceTimingTests {
    @Test(arguments: ["EC", "ED25519"])
    func signingAndVerifyingAStatementStaysFarBelowABuildsTime(algorithm: String) async throws {
        let fixtures = try ProvenanceFixtures()
        defer { fixtures.remove() }
        let key = try SigningKey(pem: try await fixtures.generateKey(algorithm))
        let statement = ProvenanceFixtures.statement(about: Array("image".utf8))
        let rounds = 200
        var envelope = try statement.signed(with: key)
        let signStart = ContinuousClock.now
        for _ in 0..<rounds { envelope = try statement.signed(with: key) }
        let sign = (ContinuousClock.now - signStart) / rounds
        let verifyStart = ContinuousClock.now
        for _ in 0..<rounds { _ = try InTotoStatement.verified(envelope, with: key.verifyingKey) }
        let verify = (ContinuousClock.now - verifyStart) / rounds
        let name = algorithm == "EC" ? "ecdsa_p256" : "ed25519"
        print("provenance_sign_\(name)_us = \(sign.components.attoseconds / 1_000_000_000_000)")
        print("provenance_verify_\(name)_us = \(verify.components.attoseconds / 1_000_000_000_000)")
        // A build takes seconds; provenance must stay a rounding error of it.
        #expect(sign < .milliseconds(20) && verify < .milliseconds(20))
    }
}
