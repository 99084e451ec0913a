import Foundation
import Testing

@testable import GitCheckout

/// Relative submodule URLs resolve exactly as real git resolves them (`git submodule init`
/// against `remote.origin.url`), and the result is held to the policy.
@Suite struct SubmoduleURLTests {
    static let resolutions: [(base: String, relative: String)] = [
        ("https://git.example.com/shop/api.git", "../lib.git"),
        ("https://git.example.com/shop/api.git", "./sub/"),
        ("https://git.example.com/shop/api.git/", "../../other/lib"),
        ("https://git.example.com/shop/api.git", "../../../evil.example:repo"),
        ("https://git.example.com/shop/api.git", "../../../evil.example/repo"),
        ("https://git.example.com/shop/api.git", "../../../../x"),
        ("https://git.example.com/shop/api.git", "../../../../../x"),
        ("https://git.example.com/shop/api.git", "../../../../../../x"),
        ("https://git.example.com/shop/api.git", "../../../../../../../x"),
        ("git@github.com:org/app.git", "../lib.git"),
        ("git@github.com:org/app.git", "../../lib.git"),
        ("git@github.com:org/app.git", "../../../lib.git"),
        ("ssh://git@host.example:2222/a/b", "./c/./d"),
        ("file:///srv/repos/app", "../lib"),
        ("file:///srv/repos/app", "../../../../x"),
        ("git://127.0.0.1:9418/app", "../../127.0.0.1:1/lib"),
    ]

    /// What `git submodule init` writes for `relative` in a clone of `base`; nil when git refuses.
    static func gitResolves(_ relative: String, against base: String, in fixture: Fixture) async throws -> String? {
        let repository = "\(fixture.root)/resolve-\(UUID().uuidString)"
        try await fixture.git(["init", "--quiet", repository])
        try await fixture.git(["commit", "--quiet", "--allow-empty", "-m", "x"], in: repository)
        let head = try await fixture.git(["rev-parse", "HEAD"], in: repository)
        try await fixture.git(["update-index", "--add", "--cacheinfo", "160000,\(head),sub"], in: repository)
        try await fixture.git(["config", "--file", ".gitmodules", "submodule.sub.path", "sub"], in: repository)
        try await fixture.git(["config", "--file", ".gitmodules", "submodule.sub.url", relative], in: repository)
        try await fixture.git(["config", "remote.origin.url", base], in: repository)
        guard (try? await fixture.git(["submodule", "--quiet", "init"], in: repository)) != nil else { return nil }
        return try await fixture.git(["config", "submodule.sub.url"], in: repository)
    }

    @Test func resolvesRelativeURLsAsGitDoes() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        for (base, relative) in Self.resolutions {
            let expected = try await Self.gitResolves(relative, against: base, in: fixture)
            let ours = try? SubmoduleURL.resolve(relative, against: base)
            #expect(ours == expected, "\(relative) against \(base)")
        }
    }

    @Test func aRelativeURLStaysOnItsHostOrIsRefused() throws {
        let policy = RepositoryPolicy()
        let api = try policy.repositoryURL("https://git.example.com/shop/api.git")
        let lib = try SubmoduleURL.repository("../lib.git", superproject: api, policy: policy)
        #expect(lib.text == "https://git.example.com/shop/lib.git")
        #expect(lib.hasSameOrigin(as: api))
        // The example: another host, which the policy refuses for its port.
        #expect(throws: CheckoutError.self) {
            try SubmoduleURL.repository("../../../evil.example:repo", superproject: api, policy: policy)
        }
        // Another host the policy allows: no credentials follow (GitCommandTests).
        let other = try SubmoduleURL.repository("../../../evil.example/repo", superproject: api, policy: policy)
        #expect(other.text == "https://evil.example/repo")
        #expect(!other.hasSameOrigin(as: api))
        for escaping in ["../../../../x", "../../../../../x", "../../../../../../x"] {
            #expect(throws: CheckoutError.self, "\(escaping)") {
                try SubmoduleURL.repository(escaping, superproject: api, policy: policy)
            }
        }
        let scp = try policy.repositoryURL("git@github.com:org/app.git")
        #expect(try SubmoduleURL.repository("../lib.git", superproject: scp, policy: policy).text == "git@github.com:org/lib.git")
    }

    @Test func localPathsOnlyWhereFileURLsAre() throws {
        let closed = RepositoryPolicy()
        let open = RepositoryPolicy(allowFileURLs: true)
        let app = try open.repositoryURL("file:///srv/app")
        #expect(throws: CheckoutError.invalidRequest(field: "url", reason: "local paths are not allowed")) {
            try SubmoduleURL.repository("/srv/lib", superproject: app, policy: closed)
        }
        #expect(try SubmoduleURL.repository("/srv/lib", superproject: app, policy: open).text == "file:///srv/lib")
        #expect(try SubmoduleURL.repository("../lib", superproject: app, policy: open).text == "file:///srv/lib")
        let https = try closed.repositoryURL("https://git.example.com/app")
        #expect(throws: CheckoutError.self) {
            try SubmoduleURL.repository("file:///etc", superproject: https, policy: closed)
        }
    }

    @Test func showsURLsWithoutSecretsOrControlCharacters() {
        #expect(SubmoduleURL.shown("https://user:tok@host/x") == "https://***@host/x")
        #expect(SubmoduleURL.shown("https://ghp_abc@host/x") == "https://***@host/x")
        #expect(SubmoduleURL.shown("ssh://git@host/x") == "ssh://git@host/x")
        #expect(SubmoduleURL.shown("ssh://git:pw@host/x") == "ssh://***@host/x")
        #expect(SubmoduleURL.shown("git@host:x") == "git@host:x")
        #expect(SubmoduleURL.shown("a\nb\u{7f}") == "a\\u{a}b\\u{7f}")
        #expect(SubmoduleURL.shown(String(repeating: "a", count: 5000)).count == 301)
    }
}
