import Digests
import Foundation
import GatewayAPI
import Records

/// Why a request's secrets cannot be taken.
public enum SecretsRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// The gateway has no `SECRETS_KEY`: it would have to keep them in clear.
    case notConfigured
    /// The configured builder cannot take them (see deploy/README.md, "Secrets").
    case unsupported(builder: String, what: String)

    public var description: String {
        switch self {
        case .notConfigured:
            "this gateway has no SECRETS_KEY, so it cannot keep secrets for a job; ask its operator to configure one"
        case .unsupported(let builder, let what): "the \(builder) builder cannot take \(what)"
        }
    }
}

/// A job's secret values: the request's `secret_build_args` and `secrets` (files). They are
/// recorded with `***` values (`recorded(_:)`), sealed apart while the job may run, sent to
/// build-service and masked (`masker`) in everything the gateway writes.
public struct BuildSecrets: Codable, Sendable, Equatable {
    public var buildArgs: [String: String]
    public var files: [String: String]

    enum CodingKeys: String, CodingKey {
        case buildArgs = "build_args"
        case files
    }

    public init(buildArgs: [String: String] = [:], files: [String: String] = [:]) {
        self.buildArgs = buildArgs
        self.files = files
    }

    /// The secrets a request carries (with `***` values when it is a recorded one).
    public init(of request: BuildJobRequest) {
        self.init(
            buildArgs: request.secretBuildArgs?.additionalProperties ?? [:], files: request.secrets?.additionalProperties ?? [:])
    }

    public var isEmpty: Bool { buildArgs.isEmpty && files.isEmpty }

    public var masker: SecretMasker { SecretMasker(values: Array(buildArgs.values) + Array(files.values)) }

    /// Whether these carry the same names and ids as `other` (values aside).
    public func declaresTheSame(as other: BuildSecrets) -> Bool {
        Set(buildArgs.keys) == Set(other.buildArgs.keys) && Set(files.keys) == Set(other.files.keys)
    }

    /// The request as the job records it: each secret value replaced by `***`, names kept.
    public static func recorded(_ request: BuildJobRequest) -> BuildJobRequest {
        var recorded = request
        recorded.secretBuildArgs = request.secretBuildArgs.map { .init(additionalProperties: $0.additionalProperties.mapValues { _ in Redaction.mask }) }
        recorded.secrets = request.secrets.map { .init(additionalProperties: $0.additionalProperties.mapValues { _ in Redaction.mask }) }
        return recorded
    }

    /// The secrets sealed for the job `jobID` (nil when there are none), after checking the
    /// gateway can keep them and its builder can take them.
    public func sealed(for jobID: UUID, settings: OrchestrationSettings) throws -> SealedSecrets? {
        guard !isEmpty else { return nil }
        guard let keyring = settings.secretsKeyring else { throw SecretsRefusal.notConfigured }
        switch settings.builder {
        case "kaniko" where !files.isEmpty:
            throw SecretsRefusal.unsupported(builder: "kaniko", what: "secret files (RUN --mount=type=secret)")
        case "kaniko-kubernetes":
            throw SecretsRefusal.unsupported(
                builder: "kaniko-kubernetes", what: "secrets: they would be written into the pod spec")
        default: break
        }
        let (keyID, box) = try keyring.seal(Array(try JSONEncoder().encode(self)), context: Self.context(jobID))
        return SealedSecrets(keyID: keyID, box: box)
    }

    /// Opens the secrets `sealed(for:settings:)` sealed for the same job.
    public init(opening sealed: SealedSecrets, with keyring: SealingKeyring, for jobID: UUID) throws {
        let plaintext = try keyring.open(keyID: sealed.keyID, box: sealed.box, context: Self.context(jobID))
        self = try JSONDecoder().decode(BuildSecrets.self, from: Data(plaintext))
    }

    /// A MAC of the names and values under `keyring`'s key, for the build key; nil without secrets.
    public func mac(with keyring: SealingKeyring) -> String? {
        guard !isEmpty else { return nil }
        var canonical = ""
        for (kind, entries) in [("arg", buildArgs), ("file", files)] {
            for (name, value) in entries.sorted(by: { $0.key < $1.key }) {
                canonical += "\(kind):\(name.utf8.count):\(name):\(value.utf8.count):\(value)\n"
            }
        }
        return keyring.mac(canonical)
    }

    private static func context(_ jobID: UUID) -> String { "job_secrets " + jobID.uuidString.lowercased() }
}
