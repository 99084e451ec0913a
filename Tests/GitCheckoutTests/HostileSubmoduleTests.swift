import Foundation
import GitCheckout
import Testing

/// `.gitmodules` as a hostile repository writes it, under a superproject served by
/// `git daemon` (`git://127.0.0.1:<port>/app`): every URL is resolved as git does and held
/// to the policy, and every failure names the submodule (path and URL), has a stable code,
/// and is transient only when the network failed.
@Suite struct HostileSubmoduleTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        /// The URL `.gitmodules` gives (nil: none). `{daemon}`: the daemon's port, `{closed}`: a
        /// port nobody listens on, `{root}`: the fixture's folder.
        let url: String?
        /// Given: `vendor/x` is a repository of its own whose submodule `deep` has this URL.
        var nested: String? = nil
        var allowFile = false
        /// The superproject records a commit its submodule does not have.
        var missingCommit = false
        let code: String
        var transient = false
        /// What the message says besides the submodule's path.
        let mentions: [String]
        var hides: [String] = []

        var testDescription: String { name }
        var path: String { nested == nil ? "vendor/x" : "vendor/x/deep" }
    }

    static let missingCommit = "0123456789abcdef0123456789abcdef01234567"

    static let cases: [Case] = [
        Case(
            name: "relative URL walked up into the scheme", url: "../../../evil.example:repo", code: "invalid_request",
            mentions: ["../../../evil.example:repo", "git:/evil.example:repo", "ssh address"]),
        Case(
            name: "relative URL above the root", url: "../../../../../../some/path", code: "invalid_request",
            mentions: ["../../../../../../some/path", "goes above"]),
        Case(
            name: "relative URL to another host", url: "../../127.0.0.1:{closed}/lib", code: "git_failed",
            transient: true, mentions: ["../../127.0.0.1:{closed}/lib → git://127.0.0.1:{closed}/lib"]),
        Case(
            name: "absolute URL to an unreachable host", url: "git://127.0.0.1:{closed}/lib", code: "git_failed",
            transient: true, mentions: ["git://127.0.0.1:{closed}/lib"]),
        Case(
            name: "scp-style option", url: "-oProxyCommand=touch:{root}/pwned", code: "invalid_request",
            mentions: ["must not begin with '-'"]),
        Case(
            name: "scp-style option as host", url: "git@-oProxyCommand=true:repo", code: "invalid_request",
            mentions: ["invalid host"]),
        Case(
            name: "scp-style option as path", url: "evil.example:-repo", code: "invalid_request",
            mentions: ["path must not begin with '-'"]),
        Case(
            name: "file: without slashes", url: "file:/etc", code: "invalid_request", mentions: ["file:/etc", "ssh address"]),
        Case(
            name: "file URL where file URLs are refused", url: "file:///etc", code: "invalid_request",
            mentions: ["file:///etc", "scheme 'file' is not allowed"]),
        Case(
            name: "file URL where file URLs are allowed", url: "file:///etc", allowFile: true,
            code: "repository_not_found", mentions: ["file:///etc", "repository not found: file:///etc"]),
        Case(
            name: "local path where file URLs are refused", url: "/etc", code: "invalid_request",
            mentions: ["(/etc)", "local paths are not allowed"]),
        Case(
            name: "local path where file URLs are allowed", url: "{root}/served/nope", allowFile: true,
            code: "repository_not_found", mentions: ["{root}/served/nope → file://{root}/served/nope"]),
        Case(
            name: "option-like URL", url: "--upload-pack=touch", code: "invalid_request",
            mentions: ["--upload-pack=touch", "must not begin with '-'"]),
        Case(
            name: "remote helper", url: "ext::sh -c touch% {root}/pwned", code: "invalid_request",
            mentions: ["ext::sh"]),
        Case(
            name: "credentials in the URL", url: "https://user:s3cret-tok@evil.example/x", code: "invalid_request",
            mentions: ["https://***@evil.example/x", "credentials in the URL"], hides: ["s3cret-tok", "user:"]),
        Case(
            name: "control characters", url: "../lib\n[core]", code: "invalid_request",
            mentions: ["../lib\\u{a}[core]", "control characters"]),
        Case(
            name: "missing repository", url: "../nope", code: "repository_not_found",
            mentions: ["../nope → git://127.0.0.1:{daemon}/nope", "repository not found: git://127.0.0.1:{daemon}/nope"],
            hides: ["/app"]),
        Case(
            name: "missing commit", url: "../lib", missingCommit: true, code: "ref_not_found",
            mentions: ["ref not found: \(missingCommit)"]),
        Case(name: "no URL", url: nil, code: "invalid_request", mentions: ["none in .gitmodules"]),
        Case(
            name: "nested file URL", url: "../lib2", nested: "file:///etc", code: "invalid_request",
            mentions: ["(file:///etc)", "scheme 'file' is not allowed"]),
        Case(
            name: "nested relative URL above the root", url: "../lib2", nested: "../../../../../../x",
            code: "invalid_request", mentions: ["goes above the root of git://127.0.0.1:{daemon}/lib2"]),
    ]

    @Test(arguments: cases) func namesTheSubmoduleAndFailsAsItShould(_ item: Case) async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let daemon = try await GitDaemon.start(base: fixture.served)
        do {
            let closed = try freePort()
            func expand(_ text: String) -> String {
                text.replacingOccurrences(of: "{daemon}", with: "\(daemon.port)")
                    .replacingOccurrences(of: "{closed}", with: "\(closed)")
                    .replacingOccurrences(of: "{root}", with: fixture.root)
            }
            let lib = try await fixture.repository("lib", files: ["lib.txt": "lib\n"])
            var commit = try await fixture.git(["rev-parse", "HEAD"], in: lib)
            if let nested = item.nested {
                let lib2 = try await fixture.superproject("lib2", submodules: [("deep", expand(nested), commit)])
                commit = try await fixture.git(["rev-parse", "HEAD"], in: lib2)
            }
            if item.missingCommit { commit = Self.missingCommit }
            try await fixture.superproject("app", submodules: [("vendor/x", item.url.map(expand), commit)])

            let checkout = fixture.checkout(policy: RepositoryPolicy(allowFileURLs: item.allowFile))
            let error = await #expect(throws: CheckoutError.self) {
                try await checkout.run(CheckoutRequest(repository: daemon.url("app"), ref: "main", submodules: true))
            }
            let failure = try #require(error)
            guard case .submodule(let path, _, _) = failure else {
                Issue.record("not a submodule failure: \(failure)")
                await daemon.stop()
                return
            }
            #expect(path == item.path)
            #expect(failure.code == item.code, "\(failure)")
            #expect(failure.isTransient == item.transient, "\(failure)")
            #expect(failure.description.hasPrefix("submodule \(item.path)"), "\(failure)")
            for text in item.mentions.map(expand) {
                #expect(failure.description.contains(text), "\(failure.description) should say \(text)")
            }
            for text in item.hides { #expect(!failure.description.contains(text), "\(failure.description)") }
            #expect(!FileManager.default.fileExists(atPath: "\(fixture.root)/pwned"))
        } catch {
            await daemon.stop()
            throw error
        }
        await daemon.stop()
    }
}
