import ArgumentParser
import Digests
import Foundation
import GatewayAPI
import HTTPClient
import Logging
import OCI
import Provenance

/// `buildchain verify JOB|IMAGE --key public.pem`: checks a job's signed provenance, or the one
/// attached to a pushed image in its registry.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a job's or a pushed image's signed provenance and print what was built from what.",
        discussion: """
            For a job id: checks the DSSE signature with the public key, that a subject of the \
            statement is the job's image tarball (and, with --artifact, that file's SHA-256), and, \
            for a pushed image, that the registry still serves the manifest digest the statement \
            names. For an image reference (registry/repository:tag or @sha256:…): resolves the \
            manifest digest, finds the envelope attached to it (the referrers API, else the \
            sha256-<hex>.att tag) and checks its signature and that a subject is that manifest. \
            Exit status 1 when any check fails.
            """)

    @OptionGroup var gateway: GatewayOptions

    @Argument(help: ArgumentHelp("A job's id (a UUID) or a pushed image reference.", valueName: "job-id|image"))
    var subject: String

    @Option(help: ArgumentHelp("The signer's public key (PEM).", valueName: "path"))
    var key: String

    @Option(help: ArgumentHelp("An image tarball to check against the statement's subject.", valueName: "path"))
    var artifact: String?

    func run() async throws {
        let verifyingKey = try ProvenanceCheck.publicKey(at: key)
        guard let id = JobID(argument: subject) else {
            return try await verifyImage(subject, with: verifyingKey)
        }
        let client = try gateway.makeClient()
        let job = try await client.job(id).value
        let envelope = try await client.provenance(id)
        let statement = try ProvenanceCheck.verify(envelope, with: verifyingKey)
        var checked: [String] = []
        if let sha256 = job.result?.image.sha256 {
            try ProvenanceCheck.require(statement, sha256: sha256, what: "the job's image tarball")
            checked.append("image tarball sha256:\(sha256)")
        }
        if let artifact {
            let digest = try ProvenanceCheck.fileDigest(artifact)
            try ProvenanceCheck.require(statement, sha256: digest, what: artifact)
            checked.append("\(artifact) sha256:\(digest)")
        }
        // The tag pushed to (the request's destination) must still name the signed manifest.
        if let reference = job.request.push?.destination ?? job.result?.reference, let manifest = job.result?.manifestDigest {
            try ProvenanceCheck.require(statement, sha256: manifest, what: "the pushed manifest")
            let served = try await ProvenanceCheck.registryDigest(of: reference)
            guard served == manifest else {
                throw ProvenanceCheck.failure("the registry serves \(served) for \(reference), the statement names \(manifest)")
            }
            checked.append("registry \(reference) serves \(manifest)")
        }
        Console.output(ProvenanceCheck.summary(statement, keyID: verifyingKey.keyID, checked: checked))
    }

    private func verifyImage(_ image: String, with verifyingKey: VerifyingKey) async throws {
        let reference: OCIReference
        do {
            reference = try OCIReference(parsing: image)
        } catch {
            throw CLIError(exitStatus: ExitStatus.usage, message: "\(image) is neither a job id nor an image reference: \(error)")
        }
        if artifact != nil {
            throw CLIError(exitStatus: ExitStatus.usage, message: "--artifact goes with a job id, not an image reference")
        }
        let (statement, manifest) = try await ProvenanceCheck.attached(to: reference, with: verifyingKey)
        Console.output(
            ProvenanceCheck.summary(
                statement, keyID: verifyingKey.keyID, checked: ["registry \(image) serves \(manifest)"]))
    }
}

/// The checks `buildchain verify` runs, each failing with exit status 1.
enum ProvenanceCheck {
    static func failure(_ message: String) -> CLIError {
        CLIError(exitStatus: ExitStatus.jobUnsuccessful, message: "verification failed: \(message)")
    }

    static func publicKey(at path: String) throws -> VerifyingKey {
        guard let pem = FileManager.default.contents(atPath: path) else {
            throw CLIError(exitStatus: ExitStatus.usage, message: "cannot read the public key \(path)")
        }
        do {
            return try VerifyingKey(pem: Array(pem))
        } catch {
            throw CLIError(exitStatus: ExitStatus.usage, message: "\(path): \(error)")
        }
    }

    static func verify(_ envelope: DSSEEnvelope, with key: VerifyingKey) throws -> InTotoStatement {
        do {
            return try InTotoStatement.verified(envelope, with: key)
        } catch {
            throw failure("\(error)")
        }
    }

    static func require(_ statement: InTotoStatement, sha256: String, what: String) throws {
        do {
            try statement.requireSubject(sha256: sha256)
        } catch {
            throw failure("\(what): \(error)")
        }
    }

    static func fileDigest(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CLIError(exitStatus: ExitStatus.usage, message: "cannot read \(path)")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(chunk) }
        return hasher.finalize().hex
    }

    /// The manifest digest the registry serves for `reference` (anonymous pull).
    static func registryDigest(of reference: String) async throws -> String {
        do {
            return try await registry().resolveDigest(try OCIReference(parsing: reference))
        } catch {
            throw failure("cannot resolve \(reference) at its registry: \(error)")
        }
    }

    /// The statement of the first envelope attached to the manifest `reference` names that
    /// verifies with `key` and has that manifest as a subject, and the manifest's digest.
    static func attached(to reference: OCIReference, with key: VerifyingKey) async throws -> (InTotoStatement, String) {
        let client = registry()
        let manifest: String
        let envelopes: [[UInt8]]
        do {
            manifest = try await client.resolveDigest(reference)
            let pinned = try OCIReference(registry: reference.registry, repository: reference.repository, digest: manifest)
            envelopes = try await client.attachedArtifacts(of: pinned, artifactType: DSSEEnvelope.mediaType)
        } catch {
            throw failure("cannot read \(reference) and its attestations at its registry: \(error)")
        }
        guard !envelopes.isEmpty else { throw failure("no signed provenance is attached to \(manifest)") }
        var refusals: [String] = []
        for bytes in envelopes {
            do {
                let envelope = try JSONDecoder().decode(DSSEEnvelope.self, from: Data(bytes))
                let statement = try InTotoStatement.verified(envelope, with: key)
                try statement.requireSubject(sha256: manifest)
                return (statement, manifest)
            } catch {
                refusals.append("\(error)")
            }
        }
        throw failure("no attestation of \(manifest) holds: \(refusals.joined(separator: "; "))")
    }

    private static func registry() -> RegistryClient {
        var logger = Logger(label: "buildchain.registry") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        return RegistryClient(http: HTTPClient(logger: logger), logger: logger)
    }

    /// What was built from what, for people.
    static func summary(_ statement: InTotoStatement, keyID: String, checked: [String]) -> String {
        let definition = statement.predicate.buildDefinition
        let external = definition.externalParameters
        let decided = definition.internalParameters
        var lines = ["verified: signature by key \(keyID)"]
        lines += checked.map { "  matches \($0)" }
        lines.append("built \(external.workload)/\(external.service) by \(statement.predicate.runDetails.builder.id) (driver \(decided.driver))")
        lines.append("  from \(external.repository.url) \(external.repository.ref) at commit \(decided.commit)")
        lines.append("  Dockerfile \(external.dockerfilePath): \(decided.dockerfileDigest), rewritten \(decided.rewrittenDockerfileDigest)")
        for rewrite in decided.rewrites { lines.append("    line \(rewrite.line): \(rewrite.from) -> \(rewrite.to)") }
        for dependency in definition.resolvedDependencies where dependency.name == "base-image" {
            let digest = dependency.digest["sha256"].map { "sha256:\($0)" } ?? "(digest not reported)"
            lines.append("  base image \(dependency.uri ?? "?") \(digest)")
        }
        for subject in statement.subject {
            lines.append("  subject \(subject.name ?? "?") sha256:\(subject.digest["sha256"] ?? "?")")
        }
        return lines.joined(separator: "\n")
    }
}
