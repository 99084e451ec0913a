import Testing

@testable import OCI

@Suite struct OCIReferenceTests {
    struct Case: Sendable, CustomStringConvertible {
        let text: String
        let registry: String
        let repository: String
        let tag: String?
        let digest: String?
        var description: String { text }
    }

    static let digest = "sha256:" + String(repeating: "ab", count: 32)

    @Test(arguments: [
        Case(
            text: "127.0.0.1:5000/team/app:tag", registry: "127.0.0.1:5000", repository: "team/app", tag: "tag",
            digest: nil),
        Case(
            text: "registry.example.com/x/y@\(digest)", registry: "registry.example.com", repository: "x/y", tag: nil,
            digest: digest),
        Case(
            text: "registry.example.com/x/y:1.0@\(digest)", registry: "registry.example.com", repository: "x/y",
            tag: "1.0", digest: digest),
        Case(text: "localhost/app", registry: "localhost", repository: "app", tag: nil, digest: nil),
        Case(text: "localhost:5000/app", registry: "localhost:5000", repository: "app", tag: nil, digest: nil),
        Case(text: "busybox:1.36", registry: "docker.io", repository: "library/busybox", tag: "1.36", digest: nil),
        Case(text: "org/app", registry: "docker.io", repository: "org/app", tag: nil, digest: nil),
        Case(
            text: "index.docker.io/library/node:20", registry: "docker.io", repository: "library/node", tag: "20",
            digest: nil),
        Case(
            text: "h.example.com/dockerhub-proxy/library/my_app__x.y-z:v1", registry: "h.example.com",
            repository: "dockerhub-proxy/library/my_app__x.y-z", tag: "v1", digest: nil),
    ])
    func parses(_ item: Case) throws {
        let reference = try OCIReference(parsing: item.text)
        #expect(reference.registry == item.registry)
        #expect(reference.repository == item.repository)
        #expect(reference.tag == item.tag)
        #expect(reference.digest == item.digest)
    }

    @Test(arguments: [
        "", "127.0.0.1:5000/Team/app", "127.0.0.1:5000/team//app", "127.0.0.1:5000/team/app:", "h.io/a:-bad",
        "h.io/a@sha256:short", "h.io/a@sha256:" + String(repeating: "AB", count: 32), "h.io/-a", "h.io/a-", "h.io/a..b",
    ])
    func rejects(_ text: String) {
        #expect(throws: OCIReferenceError.self) { try OCIReference(parsing: text) }
    }

    @Test func referenceIsDigestThenTagThenLatest() throws {
        #expect(try OCIReference(parsing: "h.io/a").reference == "latest")
        #expect(try OCIReference(parsing: "h.io/a:v2").reference == "v2")
        #expect(try OCIReference(parsing: "h.io/a:v2@\(Self.digest)").reference == Self.digest)
    }

    @Test func descriptionIsFullyQualified() throws {
        #expect(try OCIReference(parsing: "busybox").description == "docker.io/library/busybox")
        #expect(try OCIReference(parsing: "127.0.0.1:5000/a/b:c").description == "127.0.0.1:5000/a/b:c")
    }
}

@Suite struct RegistrySchemeTests {
    @Test(arguments: [
        ("127.0.0.1:5000", "http"), ("localhost", "http"), ("localhost:5000", "http"), ("[::1]:5000", "http"),
        ("registry.example.com", "https"), ("harbor.internal:8443", "http"), ("docker.io", "https"),
    ])
    func loopbackAndListedRegistriesUsePlainHTTP(host: String, scheme: String) {
        let client = RegistryClient(
            http: TestEnvironment.http, configuration: .init(insecureRegistries: ["harbor.internal"]))
        #expect(client.scheme(for: host) == scheme)
    }
}
