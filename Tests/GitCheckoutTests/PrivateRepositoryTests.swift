import Foundation
import GitCheckout
import Testing

/// A repository behind smart HTTP that answers 401 without the right token.
@Suite struct PrivateRepositoryTests {
    static let token = "tok-\(UUID().uuidString)"

    static func withPrivateServer(_ body: (Fixture, SmartHTTPServer) async throws -> Void) async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await fixture.repository("private", files: standardFiles)
        let server = try await SmartHTTPServer.start(root: fixture.served, token: token)
        do {
            try await body(fixture, server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    /// Every form the token could leak in.
    static func leaks(_ text: String, token: String = token) -> Bool {
        let basic = Data("x-access-token:\(token)".utf8).base64EncodedString()
        return text.contains(token) || text.contains(basic)
    }

    /// Whether any file under `folder` contains the token.
    static func filesLeak(under folder: String) -> Bool {
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return false }
        for case let path as String in walker {
            if let data = FileManager.default.contents(atPath: "\(folder)/\(path)"),
                leaks(String(decoding: data, as: UTF8.self))
            {
                return true
            }
        }
        return false
    }

    @Test func checksOutWithTheConfiguredToken() async throws {
        try await Self.withPrivateServer { fixture, server in
            let events = EventLog()
            let checkout = fixture.checkout(
                credentials: GitCredentials(["127.0.0.1:\(server.port)": .token(Self.token)]))
            let result = try await checkout.run(
                CheckoutRequest(repository: server.url("private"), ref: "main"), onEvent: events.record)
            #expect(result.mirror == .created)
            let again = try await checkout.run(
                CheckoutRequest(repository: server.url("private"), ref: "main"), onEvent: events.record)
            #expect(again.mirror == .fetched)
            #expect(!events.messages.isEmpty)
            #expect(!events.messages.contains { Self.leaks($0) })
            #expect(!Self.leaks("\(result) \(again)"))
            #expect(!Self.filesLeak(under: fixture.cache), "the token is stored nowhere in the mirror")
            #expect(!Self.leaks("\(checkout.configuration.credentials)"))
        }
    }

    @Test func failsWithoutTheTokenAsAnAuthenticationError() async throws {
        try await Self.withPrivateServer { fixture, server in
            let url = server.url("private")
            await #expect(throws: CheckoutError.authenticationFailed(repository: url)) {
                try await fixture.checkout().run(CheckoutRequest(repository: url, ref: "main"))
            }
            let wrong = "wrong-\(UUID().uuidString)"
            let events = EventLog()
            let error = await #expect(throws: CheckoutError.self) {
                try await fixture.checkout(credentials: GitCredentials(["127.0.0.1": .token(wrong)])).run(
                    CheckoutRequest(repository: url, ref: "main"), onEvent: events.record)
            }
            #expect(error == .authenticationFailed(repository: url))
            #expect(error?.code == "repository_authentication_failed")
            #expect(!Self.leaks(error?.description ?? "", token: wrong))
            #expect(!events.messages.contains { Self.leaks($0, token: wrong) })
        }
    }

    @Test func publicRepositoryOverSmartHTTP() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let head = try await fixture.git(
            ["rev-parse", "HEAD"], in: try await fixture.repository("public", files: standardFiles))
        let server = try await SmartHTTPServer.start(root: fixture.served)
        let result = try await fixture.checkout().run(CheckoutRequest(repository: server.url("public"), ref: "main"))
        await server.stop()
        #expect(result.commit == head)
    }
}
