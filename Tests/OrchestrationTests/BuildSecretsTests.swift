import Digests
import Foundation
import Gateway
import GatewayAPI
import Records
import Testing

/// A job's secrets: recorded masked, sealed for one job, refused where they cannot be kept,
/// and part of the build key only as a keyed MAC.
@Suite struct BuildSecretsTests {
    static let keyring = SealingKeyring(current: try! .init(id: "k1", bytes: Array(repeating: 7, count: 32)))

    static func settings(builder: String = "buildah", keyring: SealingKeyring? = keyring) -> OrchestrationSettings {
        var settings = OrchestrationSettings()
        settings.builder = builder
        settings.secretsKeyring = keyring
        return settings
    }

    static let request: BuildJobRequest = {
        var request = BuildJobRequest(
            workload: "w", service: "s", repository: .init(url: "https://git.example/x.git", ref: "main"),
            buildArgs: .init(additionalProperties: ["PLAIN": "1"]))
        request.secretBuildArgs = .init(additionalProperties: ["DB_PASS": "pw-1"])
        request.secrets = .init(additionalProperties: ["npmrc": "//r/:_authToken=t"])
        return request
    }()

    @Test func theRecordedRequestKeepsNamesAndMasksValues() throws {
        let recorded = BuildSecrets.recorded(Self.request)
        #expect(
            recorded.secretBuildArgs?.additionalProperties == ["DB_PASS": "***"]
                && recorded.secrets?.additionalProperties == ["npmrc": "***"])
        #expect(recorded.buildArgs?.additionalProperties == ["PLAIN": "1"])
        #expect(BuildSecrets(of: recorded).declaresTheSame(as: BuildSecrets(of: Self.request)))
    }

    @Test func sealedSecretsOpenOnlyForTheirJob() throws {
        let secrets = BuildSecrets(of: Self.request)
        let job = UUID()
        let sealed = try #require(try secrets.sealed(for: job, settings: Self.settings()))
        #expect(!sealed.box.contains("pw-1"))
        #expect(try BuildSecrets(opening: sealed, with: Self.keyring, for: job) == secrets)
        #expect(throws: SealingError.tampered) { try BuildSecrets(opening: sealed, with: Self.keyring, for: UUID()) }
        #expect(try BuildSecrets().sealed(for: job, settings: Self.settings(keyring: nil)) == nil, "none: nothing to seal")
    }

    @Test func refusedWithoutAKeyOrWithABuilderThatCannotTakeThem() {
        let secrets = BuildSecrets(of: Self.request)
        #expect(throws: SecretsRefusal.notConfigured) { try secrets.sealed(for: UUID(), settings: Self.settings(keyring: nil)) }
        #expect(throws: SecretsRefusal.self) { try secrets.sealed(for: UUID(), settings: Self.settings(builder: "kaniko")) }
        #expect(throws: SecretsRefusal.self) {
            try BuildSecrets(buildArgs: ["A": "b"]).sealed(for: UUID(), settings: Self.settings(builder: "kaniko-kubernetes"))
        }
        #expect((try? BuildSecrets(buildArgs: ["A": "b"]).sealed(for: UUID(), settings: Self.settings(builder: "kaniko"))) != nil)
    }

    @Test func theBuildKeyChangesWithASecretValueAndRevealsNothingOfIt() throws {
        func key(_ secrets: BuildSecrets, keyring: SealingKeyring = Self.keyring) -> String {
            BuildKey(
                commit: "c", contextPath: ".", dockerfile: "FROM a\n", buildArgs: [:], target: nil, builder: "buildah",
                secrets: secrets.mac(with: keyring)
            ).value
        }
        let one = BuildSecrets(buildArgs: ["DB_PASS": "pw-1"])
        #expect(key(one) == key(BuildSecrets(buildArgs: ["DB_PASS": "pw-1"])))
        #expect(key(one) != key(BuildSecrets(buildArgs: ["DB_PASS": "pw-2"])))
        #expect(key(one) != key(BuildSecrets(files: ["DB_PASS": "pw-1"])), "an arg is not a file")
        let other = SealingKeyring(current: try .init(id: "k2", bytes: Array(repeating: 8, count: 32)))
        #expect(key(one) != key(one, keyring: other), "keyed: without the key the MAC cannot be recomputed")
        #expect(one.mac(with: Self.keyring) != SHA256.hash("arg:7:DB_PASS:4:pw-1\n").hex)
        #expect(BuildSecrets().mac(with: Self.keyring) == nil)
        let none = BuildKey(commit: "c", contextPath: ".", dockerfile: "FROM a\n", buildArgs: [:], target: nil, builder: "buildah")
        #expect(none.value != key(one), "a build without secrets keeps its key")
    }

    /// Secret names and ids outside their patterns are the spec's limits: RequestValidatorTests.
    @Test(arguments: [
        (["secret_build_args": ["PLAIN": "x"]], "secret_build_args.PLAIN"),
    ] as [([String: [String: String]], String)])
    func aSecretAlsoABuildArgIsRefused(fields: [String: [String: String]], field: String) throws {
        var request = Self.request
        request.secretBuildArgs = .init(additionalProperties: fields["secret_build_args"] ?? [:])
        request.secrets = .init(additionalProperties: fields["secrets"] ?? [:])
        #expect(throws: InvalidBuildRequest.self) { try request.validate() }
        do { try request.validate() } catch { #expect(error.field == field) }
    }
}
