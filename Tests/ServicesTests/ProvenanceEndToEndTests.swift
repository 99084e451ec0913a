import Digests
import Foundation
import HTTPClient
import OCI
import Processes
import Provenance
import Testing

/// A build over the real chain (see BuildStack) with a signing key configured: the job's
/// DSSE envelope is stored beside its tarball, served by the gateway, signed by that key, and
/// says what went in — commit, Dockerfile before and after the rewrite, base images as pulled,
/// every stage's timings — with the secret build arg's value nowhere; the envelope is attached
/// to the pushed manifest in the registry and `buildchain verify IMAGE` checks it there.
@Suite(
    .serialized,
    .enabled(if: BuildStack.isAvailable, "needs the local stack's servers (deploy/local/up.sh --infra-only; source .local/env)"))
struct ProvenanceEndToEndTests {
    static let dockerfile = """
        FROM busybox:1.36
        ARG PLAIN
        ARG TOKEN
        RUN test -n "$TOKEN" && printf '%s' "$PLAIN" > /plain

        """

    @Test func aPushedBuildCarriesASignedStatementOfWhatWentIntoIt() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("provenance-e2e-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let keyPath = folder.appendingPathComponent("signing.pem").path
        let generated = try await ChildProcess.output(
            ProcessSpec(
                "/usr/bin/openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", keyPath],
                timeout: .seconds(30)))
        try #require(generated.result.exitStatus == 0, "\(generated.stderr)")
        let signer = try SigningKey(pem: Array(try Data(contentsOf: URL(fileURLWithPath: keyPath))))
        let secret = "tok-\(UUID().uuidString.lowercased())"
        let environment = [
            "PROVENANCE_SIGNING_KEY_FILE": keyPath,
            "SECRETS_KEY": Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString(),
        ]
        try await BuildStack.with(environment: environment) { stack in
            let url = try stack.repository("app", files: ["Dockerfile": Self.dockerfile])
            let destination = "\(stack.registry)/e2e/provenance-\(UUID().uuidString.prefix(8).lowercased()):1"
            let id = try await stack.submit([
                "workload": "prov", "service": "app", "repository": ["url": url, "ref": "main"], "fresh": true,
                "build_args": ["PLAIN": "plain-value"], "secret_build_args": ["TOKEN": secret],
                "push": ["destination": destination],
            ])
            let job = try await stack.wait(for: id)
            try #require(job["state"] as? String == "succeeded", "job: \(job)")
            let result = try #require(job["result"] as? [String: Any])
            let image = try #require(result["image"] as? [String: Any])
            let record = try #require(result["provenance"] as? [String: Any])
            #expect(record["key_id"] as? String == signer.verifyingKey.keyID)

            // Stored beside the tarball, and the gateway serves those bytes.
            let storedKey = try #require(record["key"] as? String)
            let imageKey = try #require(image["key"] as? String)
            #expect(storedKey.hasPrefix(imageKey.components(separatedBy: "/").dropLast().joined(separator: "/") + "/"))
            let (storedSHA, _) = try await stack.storedDigest(of: storedKey)
            #expect(storedSHA == record["sha256"] as? String)
            let (status, body) = try await stack.call("GET", "/v1/jobs/\(id)/provenance")
            try #require(status == 200, "provenance answered \(status): \(body)")
            let envelope = try JSONDecoder().decode(DSSEEnvelope.self, from: try JSONSerialization.data(withJSONObject: body))

            let statement = try InTotoStatement.verified(envelope, with: signer.verifyingKey)
            let payload = String(decoding: try #require(Data(base64Encoded: envelope.payload)), as: UTF8.self)
            #expect(!payload.contains(secret), "the secret value is in the statement")
            try statement.requireSubject(sha256: try #require(image["sha256"] as? String))
            try statement.requireSubject(sha256: try #require(result["manifest_digest"] as? String))

            let definition = statement.predicate.buildDefinition
            #expect(definition.externalParameters.buildArgs == ["PLAIN": "plain-value"])
            #expect(definition.externalParameters.secretBuildArgs == ["TOKEN": "***"])
            #expect(definition.externalParameters.pushDestination == destination)
            #expect(definition.internalParameters.commit == result["commit"] as? String)
            #expect(definition.internalParameters.dockerfileDigest == "sha256:" + SHA256.hash(Self.dockerfile).hex)
            #expect(definition.internalParameters.rewrites.map(\.to) == ["\(stack.registry)/dockerhub-proxy/library/busybox:1.36"])
            let rewrite = try #require(BuildStack.stages(job)["rewrite"]?["result"] as? [String: Any])
            #expect(
                definition.internalParameters.rewrittenDockerfileDigest
                    == "sha256:" + SHA256.hash(try #require(rewrite["dockerfile"] as? String)).hex)
            #expect(definition.resolvedDependencies.first?.digest["gitCommit"] == result["commit"] as? String)
            let bases = definition.resolvedDependencies.filter { $0.name == "base-image" }
            #expect(bases.count == 1)
            #expect(bases.first?.uri?.contains("dockerhub-proxy/library/busybox:1.36") == true)
            #expect(bases.first?.digest["sha256"]?.count == 64, "base image digest: \(bases)")

            let details = statement.predicate.runDetails
            #expect(details.metadata.invocationID == id)
            #expect(details.byproducts.map(\.name) == ["stage/checkout", "stage/rewrite", "stage/build", "stage/push"])
            #expect(details.byproducts.allSatisfy { $0.annotations?["durationMs"].flatMap { Int($0) } != nil })

            // `buildchain verify`: the signature, the tarball subject, and the registry's manifest.
            let publicKey = folder.appendingPathComponent("signing.pub.pem")
            try Data(signer.verifyingKey.pem.utf8).write(to: publicKey)
            let verified = try GatewayAPITests().cli(stack, ["verify", id, "--key", publicKey.path])
            #expect(verified.status == 0, "verify: \(verified.errors)")
            #expect(verified.output.contains("verified: signature by key \(signer.verifyingKey.keyID)"))
            #expect(verified.output.contains("registry \(destination) serves \(result["manifest_digest"] as? String ?? "?")"))
            #expect(verified.output.contains("at commit \(result["commit"] as? String ?? "?")"))
            let strangerPath = folder.appendingPathComponent("stranger.pem").path
            _ = try await ChildProcess.output(
                ProcessSpec("/usr/bin/openssl", ["genpkey", "-algorithm", "ED25519", "-out", strangerPath], timeout: .seconds(30)))
            let stranger = try SigningKey(pem: Array(try Data(contentsOf: URL(fileURLWithPath: strangerPath))))
            let strangerPublic = folder.appendingPathComponent("stranger.pub.pem")
            try Data(stranger.verifyingKey.pem.utf8).write(to: strangerPublic)
            let refused = try GatewayAPITests().cli(stack, ["verify", id, "--key", strangerPublic.path])
            #expect(refused.status == 1 && refused.errors.contains("verification failed"), "\(refused.errors)")
            let otherArtifact = folder.appendingPathComponent("other.tar")
            try Data("not the image".utf8).write(to: otherArtifact)
            let mismatched = try GatewayAPITests().cli(
                stack, ["verify", id, "--key", publicKey.path, "--artifact", otherArtifact.path])
            #expect(mismatched.status == 1 && mismatched.errors.contains("no subject"), "\(mismatched.errors)")

            // The envelope went into the registry beside the image; the local registry has no
            // referrers API, so the `sha256-<hex>.att` tag names it. Verify by image reference.
            let manifestDigest = try #require(result["manifest_digest"] as? String)
            let attestation = try #require(record["attestation"] as? [String: Any], "record: \(record)")
            #expect(attestation["fallback_tag"] as? String == "sha256-\(manifestDigest.dropFirst(7)).att")
            let pushedAt = try OCIReference(parsing: destination)
            let referrers = try await stack.http.send(
                ClientRequest(url: "http://\(pushedAt.registry)/v2/\(pushedAt.repository)/referrers/\(manifestDigest)"))
            #expect(referrers.status == 404, "the local registry grew a referrers API: the fallback tag is no longer exercised")
            let byImage = try GatewayAPITests().cli(stack, ["verify", destination, "--key", publicKey.path])
            #expect(byImage.status == 0, "verify \(destination): \(byImage.errors)")
            #expect(byImage.output.contains("registry \(destination) serves \(manifestDigest)"), "\(byImage.output)")
            #expect(byImage.output.contains("at commit \(result["commit"] as? String ?? "?")"))
            let byImageStranger = try GatewayAPITests().cli(stack, ["verify", destination, "--key", strangerPublic.path])
            #expect(byImageStranger.status == 1 && byImageStranger.errors.contains("no signature of the envelope verifies"), "\(byImageStranger.errors)")

            // One byte of the statement changed in the attached envelope: refused.
            var changed = envelope
            var changedPayload = Array(try #require(Data(base64Encoded: envelope.payload)))
            changedPayload[changedPayload.count / 2] ^= 0x01
            changed.payload = Data(changedPayload).base64EncodedString()
            _ = try await RegistryClient(http: HTTPClient()).attach(
                try changed.encoded(), artifactType: DSSEEnvelope.mediaType,
                to: try OCIReference(registry: pushedAt.registry, repository: pushedAt.repository, digest: manifestDigest))
            let refusedChanged = try GatewayAPITests().cli(stack, ["verify", destination, "--key", publicKey.path])
            #expect(refusedChanged.status == 1 && refusedChanged.errors.contains("no signature of the envelope verifies"), "\(refusedChanged.errors)")

            // A job without provenance, and no job at all, answer 404 problems.
            let missing = try await stack.call("GET", "/v1/jobs/\(UUID().uuidString.lowercased())/provenance")
            #expect(missing.status == 404)
            let invalid = try await stack.call("GET", "/v1/jobs/not-a-uuid/provenance")
            #expect(invalid.status == 400 && invalid.json["code"] as? String == "INVALID_ID")
        }
    }
}
