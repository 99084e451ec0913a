import Digests
import Foundation
import ServiceKit

/// Settings of the gateway, read from the environment (see CommonConfiguration; the gateway
/// takes `API_TOKEN_SHA256` instead of `API_TOKEN`).
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `CHECKOUT_SERVICE_URL`, `REWRITE_SERVICE_URL`, `BUILD_SERVICE_URL`, `ARTIFACT_SERVICE_URL` | the stage services | http://127.0.0.1:8081 … 8084 |
/// | `CHECKOUT_SERVICE_TOKEN`, `REWRITE_SERVICE_TOKEN`, `BUILD_SERVICE_TOKEN`, `ARTIFACT_SERVICE_TOKEN` | the token the gateway presents to each | required |
/// | `GATEWAY_WORKERS` | jobs this replica runs at once (0: it only serves the API) | 4 |
/// | `JOB_LEASE` | how long a claim holds unrenewed; a dead gateway's jobs resume after it | 30s |
/// | `JOB_TIMEOUT` | a job running longer fails with TIMEOUT | 1h |
/// | `JOB_POLL_INTERVAL` | how often idle workers look for queued jobs | 500ms |
/// | `STAGE_RETRIES` | retries of a stage after a transient failure | 3 |
/// | `STAGE_RETRY_BACKOFF` | wait before the first retry, doubled for each next one | 2s |
/// | `RUN_STALE_AFTER` | a stage run without heartbeat this long is lost (its service died) | 30s |
/// | `BUILD_DRIVER` | the driver asked of build-service: auto, buildah, kaniko, kaniko-kubernetes | auto |
/// | `GATEWAY_DRY_RUN` | every build submitted here is a dry run: recorded, never run (load tests, API fuzzing) | false |
/// | `SECRETS_KEY` | 32 bytes in base64: seals jobs' secrets at rest (AES-256-GCM); unset: requests with secrets are refused | none |
/// | `SECRETS_KEY_ID` | the id recorded with what `SECRETS_KEY` sealed | k1 |
/// | `PROVENANCE_SIGNING_KEY_FILE` | a PEM private key (ECDSA P-256 or Ed25519) that signs each succeeded job's provenance; unset: none is written | none |
/// | `PROVENANCE_BUILDER_ID` | `runDetails.builder.id` in the provenance | https://buildchain.dev/gateway/v1 |
/// | `GITHUB_WEBHOOK_SECRET` | the secret GitHub signs deliveries with (`X-Hub-Signature-256`) | none: no webhook |
/// | `GITHUB_WEBHOOK_TRIGGERS_FILE` | JSON: which pushes start which builds (README.md, "GitHub push webhooks") | none |
/// | `SECRETS_PREVIOUS_KEYS` | `id=base64,…`: keys that still open what they sealed (rotation, deploy/README.md) | none |
public struct GatewayConfiguration: Sendable {
    public static let defaultPort = 8080

    public var common: CommonConfiguration
    public var endpoints: StageEndpoints
    public var orchestration: OrchestrationSettings
    /// Every `POST /v1/builds` is recorded as a dry run.
    public var dryRun = false
    /// `POST /v1/webhooks/github`; nil: it answers 404 `WEBHOOK_NOT_CONFIGURED`.
    public var githubWebhook: GitHubWebhookSettings?

    public init(common: CommonConfiguration, endpoints: StageEndpoints, orchestration: OrchestrationSettings = .init()) {
        self.common = common
        self.endpoints = endpoints
        self.orchestration = orchestration
    }

    public init(reading env: EnvironmentReader) throws {
        func endpoint(_ prefix: String, port: Int) throws -> ServiceEndpoint {
            ServiceEndpoint(
                baseURL: env.string("\(prefix)_SERVICE_URL", default: "http://127.0.0.1:\(port)"),
                token: try env.requiredSecret("\(prefix)_SERVICE_TOKEN"))
        }
        var settings = OrchestrationSettings()
        settings.workers = try env.int("GATEWAY_WORKERS", default: settings.workers, in: 0...256)
        settings.lease = try env.duration("JOB_LEASE", default: settings.lease)
        settings.jobTimeout = try env.duration("JOB_TIMEOUT", default: settings.jobTimeout)
        settings.pollInterval = try env.duration("JOB_POLL_INTERVAL", default: settings.pollInterval)
        settings.stageRetries = try env.int("STAGE_RETRIES", default: settings.stageRetries, in: 0...20)
        settings.retryBackoff = try env.duration("STAGE_RETRY_BACKOFF", default: settings.retryBackoff)
        settings.runStaleAfter = try env.duration("RUN_STALE_AFTER", default: settings.runStaleAfter)
        settings.builder = try env.enumeration("BUILD_DRIVER", default: BuildDriverName.auto).rawValue
        settings.secretsKeyring = try Self.secretsKeyring(reading: env)
        settings.provenanceKey = try Self.provenanceKey(reading: env)
        settings.provenanceBuilderID = env.string("PROVENANCE_BUILDER_ID", default: settings.provenanceBuilderID)
        if settings.lease < .seconds(1) {
            throw ConfigurationError.invalid(variable: "JOB_LEASE", value: env.string("JOB_LEASE") ?? "", expected: "at least 1s")
        }
        self.init(
            common: try CommonConfiguration(
                reading: env, defaultPort: Self.defaultPort, requiresDatabase: true, hashedTokens: true),
            endpoints: StageEndpoints(
                checkout: try endpoint("CHECKOUT", port: 8081), rewrite: try endpoint("REWRITE", port: 8082),
                build: try endpoint("BUILD", port: 8083), artifact: try endpoint("ARTIFACT", port: 8084)),
            orchestration: settings)
        dryRun = try env.bool("GATEWAY_DRY_RUN", default: false)
        githubWebhook = try Self.githubWebhook(reading: env)
    }

    /// The key in the file `PROVENANCE_SIGNING_KEY_FILE` names; nil when unset. Errors name the
    /// file, never its content.
    static func provenanceKey(reading env: EnvironmentReader) throws -> SigningKey? {
        guard let path = env.string("PROVENANCE_SIGNING_KEY_FILE"), !path.isEmpty else { return nil }
        guard let pem = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError.invalid(variable: "PROVENANCE_SIGNING_KEY_FILE", value: path, expected: "a readable file")
        }
        do {
            return try SigningKey(pem: Array(pem))
        } catch {
            throw ConfigurationError.invalid(
                variable: "PROVENANCE_SIGNING_KEY_FILE", value: path, expected: "a PEM ECDSA P-256 or Ed25519 private key (\(error))")
        }
    }

    /// `GITHUB_WEBHOOK_SECRET` and the triggers in `GITHUB_WEBHOOK_TRIGGERS_FILE`: both or neither.
    static func githubWebhook(reading env: EnvironmentReader) throws -> GitHubWebhookSettings? {
        let secret = env.secret("GITHUB_WEBHOOK_SECRET")
        let path = env.string("GITHUB_WEBHOOK_TRIGGERS_FILE")
        switch (secret, path) {
        case (nil, nil): return nil
        case (nil, _): throw ConfigurationError.missing(variable: "GITHUB_WEBHOOK_SECRET")
        case (_, nil): throw ConfigurationError.missing(variable: "GITHUB_WEBHOOK_TRIGGERS_FILE")
        case (let secret?, let path?):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError.invalid(variable: "GITHUB_WEBHOOK_TRIGGERS_FILE", value: path, expected: "a readable file")
            }
            do {
                return GitHubWebhookSettings(secret: secret, triggers: try GitHubTriggers(json: data))
            } catch {
                throw ConfigurationError.invalid(
                    variable: "GITHUB_WEBHOOK_TRIGGERS_FILE", value: path,
                    expected: "a JSON array of {repository, url?, refs, builds} (README.md, GitHub push webhooks): \(error)")
            }
        }
    }

    /// The keyring from `SECRETS_KEY`, `SECRETS_KEY_ID` and `SECRETS_PREVIOUS_KEYS`; nil without a key.
    static func secretsKeyring(reading env: EnvironmentReader) throws -> SealingKeyring? {
        guard let current = env.secret("SECRETS_KEY") else { return nil }
        func key(_ variable: String, id: String, base64: String) throws -> SealingKeyring.Key {
            do {
                return try SealingKeyring.Key(id: id, base64: base64)
            } catch {
                // The value itself is never echoed.
                throw ConfigurationError.invalid(
                    variable: variable, value: "<redacted>", expected: "an id of [A-Za-z0-9._-] and 32 bytes in base64")
            }
        }
        let id = env.string("SECRETS_KEY_ID", default: "k1")
        var previous: [SealingKeyring.Key] = []
        for entry in env.list("SECRETS_PREVIOUS_KEYS") {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else {
                throw ConfigurationError.invalid(variable: "SECRETS_PREVIOUS_KEYS", value: "<redacted>", expected: "id=base64,…")
            }
            previous.append(try key("SECRETS_PREVIOUS_KEYS", id: parts[0], base64: parts[1]))
        }
        return SealingKeyring(current: try key("SECRETS_KEY", id: id, base64: current.value), previous: previous)
    }

    enum BuildDriverName: String {
        case auto, buildah, kaniko
        case kanikoKubernetes = "kaniko-kubernetes"
    }
}
