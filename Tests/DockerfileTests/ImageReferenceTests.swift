import Dockerfile
import Testing

private let digest = "sha256:" + String(repeating: "0123456789abcdef", count: 4)

@Suite("ImageReference")
struct ImageReferenceTests {
    @Test(arguments: [
        ("node", "docker.io/library/node"),
        ("node:20", "docker.io/library/node:20"),
        ("org/app:1.0", "docker.io/org/app:1.0"),
        ("docker.io/node", "docker.io/library/node"),
        ("index.docker.io/library/node", "docker.io/library/node"),
        ("registry-1.docker.io/org/app", "docker.io/org/app"),
        ("registry.hub.docker.com/node", "docker.io/library/node"),
        ("ghcr.io/org/app@\(digest)", "ghcr.io/org/app@\(digest)"),
        ("node:20@\(digest)", "docker.io/library/node:20@\(digest)"),
        ("localhost/app", "localhost/app"),
        ("localhost:5000/a/b:c", "localhost:5000/a/b:c"),
        ("Foo/bar", "foo/bar"),
        ("a.b/c", "a.b/c"),
        ("[::1]:5000/app", "[::1]:5000/app"),
        ("a__b/c-d--e.f_g", "docker.io/a__b/c-d--e.f_g"),
    ])
    func normalizes(_ text: String, _ expected: String) throws {
        #expect(try ImageReference(parsing: text).description == expected)
    }

    @Test func splitsParts() throws {
        let reference = try ImageReference(parsing: "node:20-alpine@\(digest)")
        #expect(reference.registry == "docker.io")
        #expect(reference.repository == "library/node")
        #expect(reference.tag == "20-alpine")
        #expect(reference.digest == digest)
        #expect(reference.isDockerHub)
        #expect(try !ImageReference(parsing: "ghcr.io/o/a").isDockerHub)
        #expect(try ImageReference(parsing: "ghcr.io/o/a").tag == nil)
    }

    @Test(arguments: [
        ("", "empty"),
        ("Node", "lowercase"),
        ("node:", "invalid tag"),
        ("node:-x", "invalid tag"),
        ("node@sha256:abc", "invalid digest"),
        ("a..b/c/", "invalid"),
        ("org/-app", "invalid repository path"),
        ("-host.io/app", "invalid registry host"),
        (":tag", "missing repository name"),
    ])
    func rejects(_ text: String, _ reason: String) {
        let error = #expect(throws: ImageReferenceError.self) { try ImageReference(parsing: text) }
        #expect(error?.description.contains(reason) == true, "\(String(describing: error))")
    }
}

@Suite("ProxyMap")
struct ProxyMapTests {
    @Test func parsesAndNormalizesRegistries() throws {
        let map = try ProxyMap(
            parsing: " index.docker.io=harbor.example.com/dockerhub-proxy/ , GHCR.io=harbor.example.com/ghcr-proxy,quay.io=mirror:5000")
        #expect(
            map.targets == [
                "docker.io": "harbor.example.com/dockerhub-proxy", "ghcr.io": "harbor.example.com/ghcr-proxy",
                "quay.io": "mirror:5000",
            ])
        #expect(map.target(for: "registry-1.docker.io") == "harbor.example.com/dockerhub-proxy")
        #expect(map.description == "docker.io=harbor.example.com/dockerhub-proxy,ghcr.io=harbor.example.com/ghcr-proxy,quay.io=mirror:5000")
        #expect(try ProxyMap(parsing: map.description) == map)
        #expect(try ProxyMap(parsing: "").targets.isEmpty)
        #expect(try ProxyMap(["docker.io": "proxy.test/hub"]).target(for: "docker.io") == "proxy.test/hub")
    }

    @Test func proxiesReferences() throws {
        let map = try ProxyMap(parsing: "docker.io=harbor.example.com/dockerhub-proxy")
        #expect(try map.proxiedName(for: ImageReference(parsing: "node:20")) == "harbor.example.com/dockerhub-proxy/library/node:20")
        #expect(try map.proxiedName(for: ImageReference(parsing: "ghcr.io/o/a")) == nil)
        let proxied = try ImageReference(parsing: "harbor.example.com/dockerhub-proxy/library/node:20")
        #expect(map.isUnderTarget(proxied))
        #expect(map.proxiedName(for: proxied) == nil)
    }

    @Test(arguments: [
        ("docker.io", "expected REGISTRY=TARGET"),
        ("docker.io=", "missing target"),
        ("=harbor.example.com/x", "missing registry"),
        ("docker.io=harbor.example.com/x,", "expected REGISTRY=TARGET"),
        ("docker io=harbor.example.com/x", "is not a registry host"),
        ("docker.io=harbor.example.com/Upper", "invalid project path"),
        ("docker.io=-bad/x", "does not start with a registry host"),
        ("docker.io=a.io/x,index.docker.io=b.io/y", "appears more than once"),
    ])
    func rejectsMalformedEntries(_ text: String, _ reason: String) {
        let error = #expect(throws: ProxyMapError.self) { try ProxyMap(parsing: text) }
        #expect(error?.description.contains(reason) == true, "\(String(describing: error))")
    }
}

@Suite("UnifiedDiff")
struct UnifiedDiffTests {
    @Test func emptyWhenEqual() {
        #expect(UnifiedDiff.make(from: "a\nb\n", to: "a\nb\n").isEmpty)
    }

    @Test func separateHunksAndInsertions() {
        let old = (1...12).map { "line \($0)" }.joined(separator: "\n") + "\n"
        var lines = (1...12).map { "line \($0)" }
        lines[1] = "LINE 2"
        lines.insert("new", at: 11)
        let new = lines.joined(separator: "\n") + "\n"
        #expect(
            UnifiedDiff.make(from: old, to: new) == """
                --- a/Dockerfile
                +++ b/Dockerfile
                @@ -1,5 +1,5 @@
                 line 1
                -line 2
                +LINE 2
                 line 3
                 line 4
                 line 5
                @@ -9,4 +9,5 @@
                 line 9
                 line 10
                 line 11
                +new
                 line 12

                """)
    }

    @Test func marksMissingNewlineAtEnd() {
        #expect(
            UnifiedDiff.make(from: "FROM a", to: "FROM b") == """
                --- a/Dockerfile
                +++ b/Dockerfile
                @@ -1 +1 @@
                -FROM a
                \\ No newline at end of file
                +FROM b
                \\ No newline at end of file

                """)
    }
}
