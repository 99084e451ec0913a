import Foundation
import Testing

@testable import OCI

@Suite struct RegistryCredentialsTests {
    static let config = """
        {
          "auths": {
            "https://index.docker.io/v1/": { "auth": "\(Data("hubuser:hub:pass".utf8).base64EncodedString())" },
            "http://127.0.0.1:5000": { "username": "alice", "password": "wonderland" },
            "harbor.example.com": { "identitytoken": "refresh-me", "username": "robot" },
            "ghcr.io/v2/": { "auth": "" }
          },
          "credsStore": "desktop"
        }
        """

    @Test func readsEveryFormOfLogin() throws {
        let credentials = try RegistryCredentials(configJSON: Data(Self.config.utf8))
        let hub = try #require(credentials.credential(for: "docker.io"))
        #expect(hub.username == "hubuser")
        // Only the first colon separates user from password.
        #expect(hub.password == "hub:pass")
        #expect(
            credentials.credential(for: "127.0.0.1:5000")
                == RegistryCredential(username: "alice", password: "wonderland"))
        let harbor = try #require(credentials.credential(for: "harbor.example.com"))
        #expect(harbor.identityToken == "refresh-me")
        #expect(harbor.password == nil)
        #expect(credentials.credential(for: "ghcr.io") == nil)
        #expect(credentials.registries == ["127.0.0.1:5000", "docker.io", "harbor.example.com"])
    }

    @Test func neverPrintsSecrets() throws {
        let credentials = try RegistryCredentials(configJSON: Data(Self.config.utf8))
        let credential = try #require(credentials.credential(for: "127.0.0.1:5000"))
        var dumped = ""
        dump(credential, to: &dumped)
        dump(credentials, to: &dumped)
        let printed = [
            "\(credential)", String(reflecting: credential), "\(credentials)", String(reflecting: credentials), dumped,
            "\(try #require(credentials.credential(for: "harbor.example.com")))",
        ]
        for text in printed {
            #expect(!text.contains("wonderland"))
            #expect(!text.contains("hub:pass"))
            #expect(!text.contains("refresh-me"))
        }
        #expect("\(credential)".contains("alice"))
    }

    @Test func rejectsMalformedAuth() {
        let config = #"{"auths": {"h.io": {"auth": "bm9jb2xvbg=="}}}"#  // "nocolon"
        #expect(throws: RegistryCredentialsError.self) { try RegistryCredentials(configJSON: Data(config.utf8)) }
        #expect(throws: RegistryCredentialsError.self) {
            try RegistryCredentials(configFile: "/nonexistent/config.json")
        }
    }

    @Test(arguments: [
        (
            #"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push""#,
            "bearer",
            [
                "realm": "https://auth.example.com/token", "service": "registry.example.com",
                "scope": "repository:a/b:pull,push",
            ]
        ),
        (#"Basic realm="Registry Realm""#, "basic", ["realm": "Registry Realm"]),
        (
            #"bearer realm=https://h/t, service=svc, error="insufficient_scope""#,
            "bearer", ["realm": "https://h/t", "service": "svc", "error": "insufficient_scope"]
        ),
    ])
    func parsesChallenges(header: String, scheme: String, parameters: [String: String]) {
        let challenges = AuthChallenge.parse(header)
        #expect(challenges == [AuthChallenge(scheme: scheme, parameters: parameters)])
    }

    @Test func parsesSeveralChallengesInOneHeader() {
        let challenges = AuthChallenge.parse(#"Basic realm="r", Bearer realm="https://h/token",service="s""#)
        #expect(challenges.map(\.scheme) == ["basic", "bearer"])
        #expect(challenges.last?.parameters["service"] == "s")
    }
}
