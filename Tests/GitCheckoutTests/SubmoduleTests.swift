import Foundation
import GitCheckout
import Processes
import Testing

/// `app` has `vendor/lib` (git:// through the daemon), which has `deep` (file://),
/// and `rel`, a relative URL (`../deep`) resolved against the checkout's origin.
@Suite struct SubmoduleTests {
    static func withSuperproject(_ body: (Fixture, GitDaemon) async throws -> Void) async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let daemon = try await GitDaemon.start(base: fixture.served)
        do {
            let deep = try await fixture.repository("deep", files: ["deep.txt": "deep\n"])
            let lib = try await fixture.repository("lib", files: ["lib.txt": "lib\n"])
            try await fixture.git(["submodule", "--quiet", "add", "file://\(deep)", "deep"], in: lib)
            try await fixture.commit([:], in: lib, message: "nested submodule")
            let app = try await fixture.repository("app", files: standardFiles)
            try await fixture.git(["submodule", "--quiet", "add", daemon.url("lib"), "vendor/lib"], in: app)
            try await fixture.git(["submodule", "--quiet", "add", "../deep", "rel"], in: app)
            try await fixture.commit([:], in: app, message: "submodules")
            try await body(fixture, daemon)
        } catch {
            await daemon.stop()
            throw error
        }
        await daemon.stop()
    }

    @Test func checksOutSubmodulesRecursively() async throws {
        try await Self.withSuperproject { fixture, daemon in
            let result = try await fixture.checkout().run(
                CheckoutRequest(repository: daemon.url("app"), ref: "main", submodules: true))
            #expect(result.submodules == ["rel", "vendor/lib", "vendor/lib/deep"])
            let entries = try await fixture.tarEntries(result.context.path)
            #expect(entries.contains("vendor/lib/lib.txt"))
            #expect(entries.contains("vendor/lib/deep/deep.txt"))
            #expect(entries.contains("rel/deep.txt"))
            #expect(!entries.contains { $0.hasSuffix(".git") || $0.contains(".git/") }, "no git metadata: \(entries)")
        }
    }

    @Test func leavesSubmoduleFoldersEmptyWhenOff() async throws {
        try await Self.withSuperproject { fixture, daemon in
            let result = try await fixture.checkout().run(
                CheckoutRequest(repository: daemon.url("app"), ref: "main", submodules: false))
            #expect(result.submodules.isEmpty)
            let entries = try await fixture.tarEntries(result.context.path)
            #expect(entries.contains("vendor/lib/"))
            #expect(entries.contains("rel/"))
            #expect(!entries.contains { $0.hasPrefix("vendor/lib/") && $0 != "vendor/lib/" })
        }
    }

    @Test func nestedSubmoduleURLsGoThroughThePolicy() async throws {
        try await Self.withSuperproject { fixture, daemon in
            // git:// is allowed, file:// (used by the nested `deep`) is not.
            let error = await #expect(throws: CheckoutError.self) {
                try await fixture.checkout(policy: RepositoryPolicy()).run(
                    CheckoutRequest(repository: daemon.url("app"), ref: "main", submodules: true))
            }
            guard case .submodule(let path, let url, .invalidRequest(let field, let reason)) = error else {
                Issue.record("expected a refused submodule, got \(String(describing: error))")
                return
            }
            #expect(path == "vendor/lib/deep")
            #expect(url == "file://\(fixture.served)/deep")
            #expect(field == "url")
            #expect(reason.contains("file"))
        }
    }

    @Test func refusesARemoteHelperSubmoduleURL() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let daemon = try await GitDaemon.start(base: fixture.served)
        defer { Task { await daemon.stop() } }
        let lib = try await fixture.repository("lib", files: ["lib.txt": "lib\n"])
        let app = try await fixture.repository("evil", files: standardFiles)
        try await fixture.git(["submodule", "--quiet", "add", "file://\(lib)", "lib"], in: app)
        let marker = "\(fixture.root)/pwned"
        try await fixture.git(
            ["config", "--file", ".gitmodules", "submodule.lib.url", "ext::sh -c touch% \(marker)"], in: app)
        try await fixture.commit([:], in: app, message: "evil submodule")
        let checkout = fixture.checkout()
        let error = await #expect(throws: CheckoutError.self) {
            try await checkout.run(CheckoutRequest(repository: daemon.url("evil"), ref: "main", submodules: true))
        }
        #expect(error.map { if case .submodule("lib", _, .invalidRequest("url", _)) = $0 { true } else { false } } == true)
        #expect(!FileManager.default.fileExists(atPath: marker))
        let off = try await checkout.run(CheckoutRequest(repository: daemon.url("evil"), ref: "main"))
        #expect(off.submodules.isEmpty)
        await daemon.stop()
    }
}

/// Two smart-HTTP servers on loopback, each its own origin (another port): credentials configured
/// for the host `127.0.0.1` go to the superproject's server and to submodules there, never to
/// the other one, whichever way its URL is written.
@Suite struct SubmoduleCredentialTests {
    @Test func sendsCredentialsOnlyToTheSuperprojectsOrigin() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let token = "tok-\(UUID().uuidString)"
        let elsewhere = "\(fixture.root)/elsewhere"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        let home = try await SmartHTTPServer.start(root: fixture.served, token: token)
        let other = try await SmartHTTPServer.start(root: elsewhere)
        do {
            let lib = try await fixture.repository("lib", files: ["lib.txt": "lib\n"])
            let commit = try await fixture.git(["rev-parse", "HEAD"], in: lib)
            try await fixture.git(["clone", "--quiet", "--bare", lib, "\(elsewhere)/lib"])
            try await fixture.git(["clone", "--quiet", "--bare", lib, "\(elsewhere)/lib2"])
            try await fixture.superproject(
                "app",
                submodules: [
                    ("same", "../lib", commit), ("absolute", other.url("lib"), commit),
                    ("escape", "../../127.0.0.1:\(other.port)/lib2", commit),
                ])
            let result = try await fixture.checkout(credentials: GitCredentials(["127.0.0.1": .token(token)])).run(
                CheckoutRequest(repository: home.url("app"), ref: "main", submodules: true))
            #expect(result.submodules == ["absolute", "escape", "same"])
            let served = home.requests
            let elsewhereRequests = other.requests
            #expect(served.contains { $0.path.hasPrefix("/lib/") }, "the same-origin submodule came from home")
            #expect(served.allSatisfy { $0.authorized }, "home answers 401 without the token")
            #expect(elsewhereRequests.contains { $0.path.hasPrefix("/lib/") })
            #expect(elsewhereRequests.contains { $0.path.hasPrefix("/lib2/") })
            #expect(elsewhereRequests.filter { $0.authorized }.isEmpty, "\(elsewhereRequests)")
        } catch {
            await home.stop()
            await other.stop()
            throw error
        }
        await home.stop()
        await other.stop()
    }
}

/// A nested relative URL resolves against its own superproject's URL, not the top one's.
@Suite struct NestedSubmoduleResolutionTests {
    @Test func resolvesEachLevelAgainstItsParent() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let daemon = try await GitDaemon.start(base: fixture.served)
        do {
            let groupDeep = try await fixture.repository("group/deep", files: ["which.txt": "group\n"])
            try await fixture.repository("deep", files: ["which.txt": "top\n"])
            let deepCommit = try await fixture.git(["rev-parse", "HEAD"], in: groupDeep)
            let lib = try await fixture.superproject("group/lib", submodules: [("deep", "../deep", deepCommit)])
            let libCommit = try await fixture.git(["rev-parse", "HEAD"], in: lib)
            try await fixture.superproject("app", submodules: [("lib", "../group/lib", libCommit)])
            let result = try await fixture.checkout(policy: RepositoryPolicy()).run(
                CheckoutRequest(repository: daemon.url("app"), ref: "main", submodules: true))
            #expect(result.submodules == ["lib", "lib/deep"])
            let entries = try await fixture.tarEntries(result.context.path)
            #expect(entries.contains("lib/deep/which.txt"))
            let extracted = "\(fixture.root)/extracted"
            try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: true)
            let untar = try await ChildProcess.output(ProcessSpec("tar", ["-xzf", result.context.path, "-C", extracted]))
            #expect(untar.result.succeeded)
            #expect(try String(contentsOfFile: "\(extracted)/lib/deep/which.txt", encoding: .utf8) == "group\n")
        } catch {
            await daemon.stop()
            throw error
        }
        await daemon.stop()
    }
}
