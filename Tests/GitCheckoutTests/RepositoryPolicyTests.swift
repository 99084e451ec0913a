import GitCheckout
import Testing

@Suite struct RepositoryPolicyTests {
    let policy = RepositoryPolicy()

    @Test(arguments: [
        ("https://GitHub.com/Org/Repo.git/", "https://github.com/Org/Repo.git"),
        ("https://example.com:443/a/b", "https://example.com/a/b"),
        ("https://example.com:8443/a/b", "https://example.com:8443/a/b"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("GitHub.com:org/repo", "github.com:org/repo"),
        ("ssh://git@Example.com:2222/srv/repo.git", "ssh://git@example.com:2222/srv/repo.git"),
        ("ssh://git@[::1]:22/repo", "ssh://git@[::1]/repo"),
        ("git://example.com/repo", "git://example.com/repo"),
    ])
    func acceptsAndNormalizesRepositoryURLs(_ input: String, _ normalized: String) throws {
        #expect(try policy.repositoryURL(input).text == normalized)
    }

    @Test(arguments: [
        "", "ext::sh -c touch% /tmp/pwned", "ext::ssh", "fd::17", "transport::https://example.com/x",
        "-oProxyCommand=touch /tmp/x", "--upload-pack=touch", "ftp://example.com/x", "http://example.com/x",
        "file:///srv/repo", "/srv/repo", "./repo", "repo", "https://user:token@example.com/x",
        "https://token@example.com/x", "git://user@example.com/x", "ssh://user:secret@example.com/x",
        "https://example.com/x\n", "https://exa mple.com/x", "https://example.com/a\tb", "https://-example.com/x",
        "git@-oProxyCommand=x:repo", "example.com:-path", "https://example.com", "https://example.com/",
        "https://example.com/x?y=1", "https://example.com:99999/x", "https://example.com:/x",
        "https://example.com/%0a/x", "ssh://-user@example.com/x", "https://exa$mple.com/x",
        // git would ssh to a host named after the scheme.
        "file:/etc", "FILE:/etc", "https:evil.example/x", "git:/x:y", "ssh:repo",
        "-\u{0301}oProxyCommand=touch /tmp/x", "example.com:-\u{0301}path",
    ])
    func refusesRepositoryURLs(_ input: String) {
        let error = #expect(throws: CheckoutError.self) { try policy.repositoryURL(input) }
        guard case .invalidRequest(let field, _) = error else { return }
        #expect(field == "repository")
    }

    @Test func fileAndPlainHTTPOnlyWhenEnabled() throws {
        let open = RepositoryPolicy(allowFileURLs: true, allowPlainHTTP: true)
        #expect(try open.repositoryURL("file:///srv/repo/").text == "file:///srv/repo")
        #expect(try open.repositoryURL("http://127.0.0.1:8080/x").text == "http://127.0.0.1:8080/x")
        #expect(throws: CheckoutError.self) { try open.repositoryURL("file://otherhost/srv/repo") }
        #expect(throws: CheckoutError.self) { try open.repositoryURL("ext::sh -c x") }
        #expect(throws: CheckoutError.self) { try policy.repositoryURL("file:///srv/repo") }
    }

    @Test(arguments: ["main", "feature/login", "v1.0.2", "refs/pull/123/head", "0123abcd", "HEAD", "release-2024"])
    func acceptsRefs(_ ref: String) throws {
        try policy.validateRef(ref)
    }

    @Test(arguments: [
        "", "-x", "--upload-pack=x", "a..b", "..", "a b", "a\tb", "a\nb", "a@{1}", "@", "main.lock", "a/b.lock/c",
        "a/", "/a", "a//b", ".hidden", "a/.b", "a~1", "a^", "a^{tree}", "a:b", "a?", "a*", "a[b", "a\\b", "a.",
        "a\u{7f}",
        // A combining mark makes "-\u{0301}" and ".\u{0301}" one Character, not "-" or ".": still refused.
        "-\u{0301}-upload-pack=x", "a..\u{0301}b", "~\u{0301}", "a/.\u{0301}b", "/\u{0301}a", "a\u{0600}/", "a\u{0600}//b",
    ])
    func refusesRefs(_ ref: String) {
        #expect(throws: CheckoutError.self) { try policy.validateRef(ref) }
    }

    @Test func normalizesPaths() throws {
        let plan = try policy.validate(
            CheckoutRequest(
                repository: "https://example.com/r", ref: "main", contextPath: "./services//api/",
                dockerfilePath: "./docker/Dockerfile"))
        #expect(plan.contextPath == "services/api")
        #expect(plan.dockerfilePath == "docker/Dockerfile")
        #expect(plan.dockerfilePathInRepository == "services/api/docker/Dockerfile")
        let root = try policy.validate(CheckoutRequest(repository: "https://example.com/r", ref: "main"))
        #expect(root.contextPath == ".")
        #expect(root.dockerfilePathInRepository == "Dockerfile")
    }

    @Test(arguments: [
        ("contextPath", "/etc"), ("contextPath", "../outside"), ("contextPath", "a/../../b"), ("contextPath", "-x"),
        ("contextPath", "a\u{1}b"), ("contextPath", ""), ("dockerfilePath", "/Dockerfile"),
        ("dockerfilePath", "../Dockerfile"), ("dockerfilePath", "-f"), ("dockerfilePath", "."),
        ("dockerfilePath", ""), ("depth", "0"),
        // Separators hidden from Character checks by a prepended (U+0600) or combining (U+0301) mark.
        ("contextPath", "\u{0600}/../../etc"), ("contextPath", "/\u{0301}etc"), ("contextPath", "-\u{0301}x"),
        ("dockerfilePath", "x/..\u{0301}/../../Dockerfile"), ("dockerfilePath", "\u{08E2}/../Dockerfile"),
    ])
    func refusesPaths(_ field: String, _ value: String) {
        var request = CheckoutRequest(repository: "https://example.com/r", ref: "main")
        switch field {
        case "contextPath": request.contextPath = value
        case "dockerfilePath": request.dockerfilePath = value
        default: request.depth = Int(value)
        }
        let error = #expect(throws: CheckoutError.self) { try policy.validate(request) }
        guard case .invalidRequest(let refused, _) = error else { return }
        #expect(refused == field)
    }
}
