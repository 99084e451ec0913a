import Foundation
import GitCheckout
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
            guard case .invalidRequest(let field, let reason) = error else {
                Issue.record("expected invalidRequest, got \(String(describing: error))")
                return
            }
            #expect(field == "submodule deep")
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
        #expect(error.map { if case .invalidRequest("submodule lib", _) = $0 { true } else { false } } == true)
        #expect(!FileManager.default.fileExists(atPath: marker))
        let off = try await checkout.run(CheckoutRequest(repository: daemon.url("evil"), ref: "main"))
        #expect(off.submodules.isEmpty)
        await daemon.stop()
    }
}
