import Foundation
import GitCheckout
import ServiceKit
import StageClients

/// Settings of checkout-service, read from the environment (see CommonConfiguration).
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `CHECKOUT_CACHE_DIR` | bare mirrors, one per repository URL | /var/lib/buildchain/git-mirrors |
/// | `CHECKOUT_WORK_DIR` | per-run work trees and context tarballs (removed after each run) | /tmp/buildchain-checkouts |
/// | `CHECKOUT_ALLOW_FILE_URLS` | accept `file://` repositories and submodules (tests, a developer's local stack) | false |
/// | `CHECKOUT_ALLOW_PLAIN_HTTP` | accept `http://` repositories | false |
/// | `CHECKOUT_GIT_TIMEOUT` | limit of each git command | 10m |
/// | `CHECKOUT_CREDENTIALS_FILE` | JSON: host → `{"token": …}`, `{"bearer": …}` or `{"ssh_key_file": …}` | none |
/// | `ARTIFACT_SERVICE_URL` | where build contexts are uploaded | http://127.0.0.1:8084 |
/// | `ARTIFACT_SERVICE_TOKEN` | artifact-service's token | `API_TOKEN` |
public struct CheckoutConfiguration: Sendable {
    public static let defaultPort = 8081

    public var common: CommonConfiguration
    public var checkout: ContextCheckout.Configuration
    public var artifactService: ArtifactServiceEndpoint

    public init(
        common: CommonConfiguration, checkout: ContextCheckout.Configuration, artifactService: ArtifactServiceEndpoint
    ) {
        self.common = common
        self.checkout = checkout
        self.artifactService = artifactService
    }

    public init(reading env: EnvironmentReader) throws {
        let common = try CommonConfiguration(reading: env, defaultPort: Self.defaultPort, requiresDatabase: true)
        let credentials = try env.string("CHECKOUT_CREDENTIALS_FILE").map(Self.loadCredentials) ?? GitCredentials()
        self.init(
            common: common,
            checkout: ContextCheckout.Configuration(
                cacheDirectory: env.string("CHECKOUT_CACHE_DIR", default: "/var/lib/buildchain/git-mirrors"),
                workDirectory: env.string("CHECKOUT_WORK_DIR", default: "/tmp/buildchain-checkouts"),
                policy: RepositoryPolicy(
                    allowFileURLs: try env.bool("CHECKOUT_ALLOW_FILE_URLS", default: false),
                    allowPlainHTTP: try env.bool("CHECKOUT_ALLOW_PLAIN_HTTP", default: false)),
                credentials: credentials,
                gitTimeout: try env.duration("CHECKOUT_GIT_TIMEOUT", default: .seconds(600))),
            artifactService: ArtifactServiceEndpoint(reading: env, common: common))
    }

    /// Reads `{"host": {"token": "…"} | {"bearer": "…"} | {"ssh_key_file": "/path"}}`.
    static func loadCredentials(from path: String) throws -> GitCredentials {
        struct Entry: Decodable {
            var token: String?
            var username: String?
            var bearer: String?
            var sshKeyFile: String?

            enum CodingKeys: String, CodingKey {
                case token, username, bearer
                case sshKeyFile = "ssh_key_file"
            }
        }
        let invalid = ConfigurationError.invalid(
            variable: "CHECKOUT_CREDENTIALS_FILE", value: path,
            expected: "a readable JSON file mapping hosts to {token}, {bearer} or {ssh_key_file}")
        guard let data = FileManager.default.contents(atPath: path),
            let entries = try? JSONDecoder().decode([String: Entry].self, from: data)
        else { throw invalid }
        var byHost: [String: GitCredential] = [:]
        for (host, entry) in entries {
            if let token = entry.token {
                byHost[host] = .token(token, username: entry.username ?? "x-access-token")
            } else if let bearer = entry.bearer {
                byHost[host] = .bearer(bearer)
            } else if let key = entry.sshKeyFile {
                byHost[host] = .sshKey(path: key)
            } else {
                throw invalid
            }
        }
        return GitCredentials(byHost)
    }
}
