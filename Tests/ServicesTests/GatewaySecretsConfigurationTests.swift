import Foundation
import Gateway
import ServiceKit
import Testing

/// The gateway's sealing key from `SECRETS_KEY`, `SECRETS_KEY_ID` and `SECRETS_PREVIOUS_KEYS`.
@Suite struct GatewaySecretsConfigurationTests {
    static let base = [
        "API_TOKEN_SHA256": String(repeating: "a", count: 64), "DATABASE_URL": "postgresql://localhost/x",
        "CHECKOUT_SERVICE_TOKEN": "t", "REWRITE_SERVICE_TOKEN": "t", "BUILD_SERVICE_TOKEN": "t", "ARTIFACT_SERVICE_TOKEN": "t",
    ]
    static let key = Data(repeating: 1, count: 32).base64EncodedString()
    static let old = Data(repeating: 2, count: 32).base64EncodedString()

    private func configuration(_ extra: [String: String]) throws -> GatewayConfiguration {
        try GatewayConfiguration(reading: EnvironmentReader(Self.base.merging(extra) { _, new in new }))
    }

    @Test func aKeyWithItsIDAndPreviousKeysAreAccepted() throws {
        _ = try configuration([:])
        _ = try configuration(["SECRETS_KEY": Self.key])
        _ = try configuration(["SECRETS_KEY": Self.key, "SECRETS_KEY_ID": "2027-01", "SECRETS_PREVIOUS_KEYS": "2026-12=\(Self.old)"])
    }

    @Test(arguments: [
        ["SECRETS_KEY": Data(repeating: 1, count: 16).base64EncodedString()],
        ["SECRETS_KEY": "not-base64-\(UUID())"],
        ["SECRETS_KEY": key, "SECRETS_KEY_ID": "bad id"],
        ["SECRETS_KEY": key, "SECRETS_PREVIOUS_KEYS": "no-equals-sign"],
    ])
    func badKeysStopTheStartWithoutEchoingThem(extra: [String: String]) {
        #expect(throws: ConfigurationError.self) { try configuration(extra) }
        do {
            _ = try configuration(extra)
        } catch {
            for value in extra.values { #expect(!"\(error)".contains(value)) }
        }
    }
}
