import Foundation
import OCI
import Testing

/// Pushes to registries of the tests' own that require a login: htpasswd (Basic)
/// and Docker's token flow (a JWT token service), with logins read from a docker config.json.
@Suite(
    .enabled(
        if: TestEnvironment.isCI || (Shell.which("docker-registry") != nil && Shell.which("buildah") != nil),
        "needs docker-registry and buildah (Debian packages)"))
struct AuthTests {
    static let user = "builder"
    static let password = "correct horse battery staple"

    /// Writes a docker config.json with one login and reads it back.
    private func credentials(
        for registry: String, user: String = user, password: String = password, in directory: String
    ) throws -> RegistryCredentials {
        let auth = Data("\(user):\(password)".utf8).base64EncodedString()
        let path = directory + "/config-\(UUID().uuidString).json"
        try Data(#"{"auths": {"\#(registry)": {"auth": "\#(auth)"}}}"#.utf8).write(to: URL(fileURLWithPath: path))
        return try RegistryCredentials(configFile: path)
    }

    private func client(_ credentials: RegistryCredentials) -> RegistryClient {
        RegistryClient(http: TestEnvironment.http, credentials: credentials, logger: TestEnvironment.logger)
    }

    private func startBasicRegistry(in directory: String) async throws -> LocalRegistry {
        let line = try await LocalRegistry.htpasswdLine(user: Self.user, password: Self.password)
        try Data((line + "\n").utf8).write(to: URL(fileURLWithPath: directory + "/htpasswd"))
        return try await LocalRegistry.start(
            in: directory,
            auth: """
                    htpasswd:
                      realm: buildchain-test
                      path: \(directory)/htpasswd
                """)
    }

    @Test func basicAuthPushesWithTheConfiguredLogin() async throws {
        try await TestEnvironment.withTemporaryDirectory { directory in
            let registry = try await startBasicRegistry(in: directory)
            defer { registry.process.stop() }
            let fixture = try await ImageFixture.make(in: directory)
            let archive = try DockerArchive(path: fixture.path(.kaniko))
            let destination = try OCIReference(parsing: "\(registry.address)/team/basic:v1")
            let client = client(try credentials(for: "http://\(registry.address)", in: directory))

            let result = try await client.push(archive: archive, to: destination)
            #expect(try await client.resolveDigest(destination) == result.manifestDigest)
            let inspected = try await Shell.run([
                "skopeo", "inspect", "--tls-verify=false", "--creds", "\(Self.user):\(Self.password)",
                "docker://\(destination)",
            ])
            #expect(inspected.contains(result.manifestDigest))
        }
    }

    @Test func basicAuthWithAWrongPasswordOrNoneIsUnauthorized() async throws {
        try await TestEnvironment.withTemporaryDirectory { directory in
            let registry = try await startBasicRegistry(in: directory)
            defer { registry.process.stop() }
            let fixture = try await ImageFixture.make(in: directory)
            let archive = try DockerArchive(path: fixture.path(.buildah))
            let destination = try OCIReference(parsing: "\(registry.address)/team/basic:v1")

            let wrong = try credentials(for: registry.address, password: "wrong", in: directory)
            let error = await #expect(throws: RegistryError.self) {
                try await client(wrong).push(archive: archive, to: destination)
            }
            #expect(error?.code == "UNAUTHORIZED")
            #expect(error?.status == 401)
            #expect(error.map { !"\($0)".contains("wrong") } ?? false)

            let anonymous = await #expect(throws: RegistryError.self) {
                try await client(.none).resolveDigest(destination)
            }
            #expect(anonymous?.code == "UNAUTHORIZED")
        }
    }

    @Test func tokenAuthFetchesOneTokenPerScopeAndReusesIt() async throws {
        try await TestEnvironment.withTemporaryDirectory { directory in
            let tokens = try await TokenServer.start(
                in: directory, user: Self.user, password: Self.password, refreshToken: "unused")
            defer { tokens.process.stop() }
            let registry = try await LocalRegistry.start(in: directory, auth: tokens.registryAuth)
            defer { registry.process.stop() }
            let fixture = try await ImageFixture.make(in: directory)
            let archive = try DockerArchive(path: fixture.path(.kaniko))
            let destination = try OCIReference(parsing: "\(registry.address)/team/token:v1")
            let client = client(try credentials(for: registry.address, in: directory))

            let result = try await client.push(archive: archive, to: destination)
            let pushScope = "repository:team/token:pull,push"
            #expect(tokens.requests == ["GET \(pushScope)"])

            let again = try await client.push(archive: archive, to: destination)
            #expect(again.blobsSkipped == archive.layers.count + 1)
            #expect(tokens.requests == ["GET \(pushScope)"])

            #expect(try await client.resolveDigest(destination) == result.manifestDigest)
            #expect(tokens.requests == ["GET \(pushScope)", "GET repository:team/token:pull"])
        }
    }

    @Test func tokenAuthWithAWrongPasswordIsUnauthorized() async throws {
        try await TestEnvironment.withTemporaryDirectory { directory in
            let tokens = try await TokenServer.start(
                in: directory, user: Self.user, password: Self.password, refreshToken: "unused")
            defer { tokens.process.stop() }
            let registry = try await LocalRegistry.start(in: directory, auth: tokens.registryAuth)
            defer { registry.process.stop() }
            let destination = try OCIReference(parsing: "\(registry.address)/team/token:v1")

            let wrong = try credentials(for: registry.address, password: "wrong", in: directory)
            let error = await #expect(throws: RegistryError.self) { try await client(wrong).resolveDigest(destination) }
            #expect(error?.code == "UNAUTHORIZED")
            #expect(error?.status == 401)

            // Without a login the token service hands out a token granting nothing: the registry refuses it.
            let anonymous = await #expect(throws: RegistryError.self) {
                try await client(.none).resolveDigest(destination)
            }
            #expect(anonymous?.code == "UNAUTHORIZED")
        }
    }

    @Test func tokenAuthWithAnIdentityTokenUsesTheRefreshGrant() async throws {
        try await TestEnvironment.withTemporaryDirectory { directory in
            let refresh = UUID().uuidString
            let tokens = try await TokenServer.start(
                in: directory, user: Self.user, password: Self.password, refreshToken: refresh)
            defer { tokens.process.stop() }
            let registry = try await LocalRegistry.start(in: directory, auth: tokens.registryAuth)
            defer { registry.process.stop() }
            let fixture = try await ImageFixture.make(in: directory)
            let archive = try DockerArchive(path: fixture.path(.buildah))
            let destination = try OCIReference(parsing: "\(registry.address)/team/identity:v1")
            let path = directory + "/identity.json"
            try Data(#"{"auths": {"\#(registry.address)": {"identitytoken": "\#(refresh)"}}}"#.utf8)
                .write(to: URL(fileURLWithPath: path))

            let result = try await client(try RegistryCredentials(configFile: path)).push(
                archive: archive, to: destination)
            #expect(result.blobsUploaded == archive.layers.count + 1)
            #expect(tokens.requests == ["POST repository:team/identity:pull,push"])
        }
    }
}
