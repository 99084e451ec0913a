import Digests
import Foundation
import Processes
import Provenance
import Testing

/// Keys made with the `openssl` command, files in a temporary folder, the independent verifier.
struct ProvenanceFixtures {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("provenance-tests-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }

    /// A new private key of `algorithm` (`ED25519`, `EC` for P-256, `RSA`) as PEM bytes.
    func generateKey(_ algorithm: String) async throws -> [UInt8] {
        let path = folder.appendingPathComponent("key-\(UUID()).pem").path
        var arguments = ["genpkey", "-algorithm", algorithm, "-out", path]
        if algorithm == "EC" { arguments += ["-pkeyopt", "ec_paramgen_curve:P-256"] }
        if algorithm == "RSA" { arguments += ["-pkeyopt", "rsa_keygen_bits:2048"] }
        let run = try await ChildProcess.output(ProcessSpec("/usr/bin/openssl", arguments, timeout: .seconds(30)))
        try #require(run.result.exitStatus == 0, "openssl genpkey: \(run.stderr)")
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func write(_ bytes: [UInt8], as name: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// A statement about `artifact` with every part of the predicate filled in.
    static func statement(about artifact: [UInt8]) -> InTotoStatement {
        let definition = SLSAProvenance.BuildDefinition(
            externalParameters: .init(
                workload: "shop", service: "api", repository: .init(url: "https://git.example/shop.git", ref: "main"),
                contextPath: ".", dockerfilePath: "Dockerfile", target: nil, buildArgs: ["MODE": "release"],
                secretBuildArgs: ["TOKEN": "***"], secretFiles: nil, cache: true, mirrors: true,
                pushDestination: "127.0.0.1:5000/shop/api:abc"),
            internalParameters: .init(
                commit: String(repeating: "a", count: 40), dockerfileDigest: "sha256:" + SHA256.hash("FROM busybox").hex,
                rewrittenDockerfileDigest: "sha256:" + SHA256.hash("FROM proxy/library/busybox").hex,
                rewrites: [.init(line: 1, instruction: "FROM", from: "busybox", to: "proxy/library/busybox")],
                driver: "buildah", reusedFrom: nil),
            resolvedDependencies: [
                ResourceDescriptor(name: "source", uri: "git+https://git.example/shop.git@main", digest: ["gitCommit": String(repeating: "a", count: 40)])
            ])
        let details = SLSAProvenance.RunDetails(
            builder: .init(id: "https://buildchain.dev/gateway/v1", version: ["buildah": "1.39"]),
            metadata: .init(invocationID: UUID().uuidString.lowercased(), startedOn: nil, finishedOn: nil),
            byproducts: [ResourceDescriptor(name: "stage/build", annotations: ["durationMs": "12"])])
        return InTotoStatement(
            subject: [ResourceDescriptor(name: "image.tar", digest: ResourceDescriptor.sha256(SHA256.hash(artifact).hex))],
            predicate: .init(buildDefinition: definition, runDetails: details))
    }

    /// What `verify_envelope.py` (securesystemslib) says: nil when it accepts, its reason otherwise.
    func independentVerdict(envelope: String, publicKey: String, artifact: String) async throws -> String? {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("verify_envelope.py")
        let run = try await ChildProcess.output(
            ProcessSpec(
                "/usr/bin/env", ["python3", script.path, envelope, publicKey, artifact],
                environment: ProcessInfo.processInfo.environment, timeout: .seconds(60)))
        if run.result.exitStatus == 0 { return nil }
        return run.stdout + run.stderr
    }

    /// Whether python3 has securesystemslib (deploy/local/install-deps.sh installs it; CI must have it).
    static let hasSecuresystemslib: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import securesystemslib, cryptography"]
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        let isCI = ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty } ?? false
        if process.terminationStatus != 0 && !isCI {
            print("ProvenanceTests: python3 cannot import securesystemslib (pip install securesystemslib); the independent check is skipped")
        }
        return process.terminationStatus == 0 || isCI
    }()
}
