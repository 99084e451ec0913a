import Foundation
import HTTPClient
import Postgres
import Testing

/// Bad input tried on purpose against every service it applies to, each with its expected
/// answer: huge, deep and invalid bodies, huge headers, path traversal in every key and path
/// field, git URLs and refs that would run commands, build contexts that reach out of their
/// folder, SQL in string fields, the token in a URL. The suite's stack (`BadInputStack`) then
/// checks that no secret reached a log or a record and that nothing stored before was lost.
@Suite(
    .serialized,
    .enabled(if: BuildStack.isAvailable, "needs the local stack's servers (deploy/local/up.sh --infra-only; source .local/env)"),
    BadInputStack())
struct BadInputTests {
    var fixture: BadInputFixture { get throws { try #require(BadInputStack.current) } }

    /// A JSON endpoint, a body it would take, and a string field of it.
    struct Endpoint: Sendable, CustomTestStringConvertible {
        let service: String
        let path: String
        let body: String
        let field: String
        var testDescription: String { "\(service) \(path)" }
    }

    static let endpoints = [
        Endpoint(
            service: "gateway", path: "/v1/builds",
            body: jsonText(["workload": "w", "service": "s", "repository": ["url": "{repo}", "ref": "main"]]), field: "workload"),
        Endpoint(
            service: "checkout-service", path: "/v1/checkouts", body: jsonText(["repository": "{repo}", "ref": "main"]),
            field: "ref"),
        Endpoint(
            service: "rewrite-service", path: "/v1/rewrites", body: jsonText(["dockerfile": "FROM busybox:1.36\n"]),
            field: "dockerfile"),
        Endpoint(
            service: "build-service", path: "/v1/builds",
            body: jsonText(["context_key": "contexts/none.tar", "workload": "w", "service": "s"]), field: "context_key"),
        Endpoint(
            service: "artifact-service", path: "/v1/presigned-urls", body: jsonText(["key": "seed/notes.txt"]), field: "key"),
        Endpoint(
            service: "artifact-service", path: "/v1/pushes",
            body: jsonText(["artifact_key": "seed/notes.txt", "destination": "127.0.0.1:5000/badinput/x:1"]),
            field: "destination"),
        Endpoint(
            service: "artifact-service", path: "/v1/attestations",
            body: jsonText(["artifact_key": "seed/notes.txt", "subject": "127.0.0.1:5000/badinput/x@sha256:" + String(repeating: "0", count: 64)]),
            field: "subject"),
    ]

    // MARK: bodies

    @Test(arguments: endpoints)
    func aJSONBodyNested10000DeepIsInvalidJSON(_ endpoint: Endpoint) async throws {
        let fixture = try fixture
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        for body in [#"{"\#(endpoint.field)": \#(deep)}"#, deep] {
            let answer = try await fixture.send(endpoint.service, "POST", endpoint.path, json: body)
            #expect(answer.status == 400 && answer.code == "INVALID_JSON", "\(answer.status) \(answer.text.prefix(300))")
        }
    }

    @Test(arguments: endpoints)
    func invalidUTF8InAJSONStringIsInvalidJSON(_ endpoint: Endpoint) async throws {
        let fixture = try fixture
        let valid = Array(fixture.expand(endpoint.body).utf8)
        // The field's value with a byte that cannot start a character and an overlong "/".
        let value = Array(#""\#(endpoint.field)":""#.utf8)
        let start = try #require(valid.firstRange(of: value)).upperBound
        for bad in [[0xFF, 0xFE], [0xC0, 0xAF], [0xC3, 0x28], [0xED, 0xA0, 0x80]] as [[UInt8]] {
            let body = Array(valid[..<start]) + bad + Array(valid[start...])
            let answer = try await fixture.send(
                endpoint.service, "POST", endpoint.path, body: .bytes(body), headers: ["Content-Type": "application/json"])
            #expect(answer.status == 400 && answer.code == "INVALID_JSON", "\(bad): \(answer.status) \(answer.text.prefix(300))")
        }
    }

    /// 100 MB of JSON, made while it is sent, with and without a declared length: refused
    /// once past the limit (1 MiB), and never held in memory by the service. The dashboard's
    /// login form, open to anyone, reads its body the same way.
    @Test(arguments: endpoints + [Endpoint(service: "gateway", path: "/ui/login", body: "", field: "token")])
    func a100MBJSONBodyIsTooLargeAndIsNotBuffered(_ endpoint: Endpoint) async throws {
        let fixture = try fixture
        let size = 100 << 20
        for declared in [false, true] {
            let peakBefore = try fixture.peakMemory(of: endpoint.service)
            let flood = FloodBody(field: endpoint.field, size: size)
            let started = ContinuousClock.now
            let answer = try await fixture.send(
                endpoint.service, "POST", endpoint.path,
                body: .stream(ClientBodyStream(flood), length: declared ? Int64(size) : nil),
                headers: ["Content-Type": "application/json"], timeout: .seconds(120))
            let peakAfter = try fixture.peakMemory(of: endpoint.service)
            #expect(answer.status == 413 && answer.code == "BODY_TOO_LARGE", "declared \(declared): \(answer.status) \(answer.text.prefix(300))")
            #expect(flood.sent.count < size, "declared \(declared): answered before the whole body was sent")
            #expect(
                peakAfter - peakBefore < 32 << 20,
                "declared \(declared): the service's peak memory grew by \((peakAfter - peakBefore) >> 20) MiB (sent \(flood.sent.count >> 20) MiB in \(ContinuousClock.now - started))")
        }
    }

    // MARK: headers

    struct HeaderProbe: Sendable, CustomTestStringConvertible {
        let service: String
        let path: String
        /// The answer without any padding.
        let status: Int
        var testDescription: String { "\(service) GET \(path)" }
    }

    /// 64 KB is under the HTTP parser's limit (80 KB): the request is answered as usual. A
    /// bigger one is a parse error: 400, empty body, connection closed (HummingbirdCore's answer).
    @Test(arguments: [
        HeaderProbe(service: "gateway", path: "/v1/jobs", status: 200),
        HeaderProbe(service: "checkout-service", path: "/v1/checkouts/\(UUID())", status: 404),
        HeaderProbe(service: "rewrite-service", path: "/readyz", status: 200),
        HeaderProbe(service: "build-service", path: "/v1/builds/\(UUID())", status: 404),
        HeaderProbe(service: "artifact-service", path: "/v1/artifacts/seed/notes.txt", status: 200),
    ])
    func aHugeHeaderIsAnsweredNotDropped(_ probe: HeaderProbe) async throws {
        let fixture = try fixture
        let padding = String(repeating: "p", count: 64 << 10)
        let padded = try await fixture.send(probe.service, "GET", probe.path, headers: ["X-Padding": padding])
        #expect(padded.status == probe.status, "64 KB header: \(padded.status) \(padded.text.prefix(200))")
        if probe.service != "rewrite-service" {
            let token = try await fixture.send(
                probe.service, "GET", probe.path, headers: ["Authorization": "Bearer " + padding], authorized: false)
            #expect(token.status == 401 && token.code == "UNAUTHORIZED", "64 KB token: \(token.status)")
        }
        let tooBig = try await fixture.send(probe.service, "GET", probe.path, headers: ["X-Padding": padding + padding])
        #expect(tooBig.status == 400 && tooBig.body.isEmpty, "128 KB header: \(tooBig.status) \(tooBig.text.prefix(200))")
    }

    // MARK: path traversal, commands in git URLs and refs

    @Test(arguments: BadInputCatalogue.traversals)
    func pathTraversalIsRefusedInEveryKeyAndPathField(_ input: BadInput) async throws {
        try await fixture.check(input)
    }

    @Test(arguments: BadInputCatalogue.gitCommands)
    func gitURLsAndRefsCannotRunCommands(_ input: BadInput) async throws {
        let fixture = try fixture
        try await fixture.check(input)
        #expect(!FileManager.default.fileExists(atPath: fixture.marker), "\(input.input) ran a command")
    }

    // MARK: build contexts

    /// Contexts that reach out of their folder, uploaded to artifact-service and built by
    /// build-service: each run fails CONTEXT_INVALID and nothing is written outside the run's
    /// folder (which is removed). Through the gateway, a repository with symbolic links to
    /// absolute paths gets as far as the build, which refuses its context the same way.
    @Test func contextTarballsCannotWriteOutsideTheBuildFolder() async throws {
        let fixture = try fixture
        let up = String(repeating: "../", count: 12) + fixture.scratch.path.dropFirst()
        let dockerfile = "FROM busybox:1.36\nCOPY . /app\n"
        func archive(_ add: (inout BadInputTarball) -> Void) -> [UInt8] {
            var tarball = BadInputTarball()
            tarball.file("Dockerfile", dockerfile)
            add(&tarball)
            return tarball.archive
        }
        let archives: [(String, [UInt8])] = [
            ("a ../ entry", archive { $0.file(up + "/escaped-parent", "x") }),
            ("an absolute entry", archive { $0.file(fixture.scratch.path + "/escaped-absolute", "x") }),
            ("a link out, then a file through it", archive {
                $0.symbolicLink("out", to: up)
                $0.file("out/escaped-through", "x")
            }),
            ("a link to /etc", archive { $0.symbolicLink("etc", to: "/etc") }),
            ("a link to ..", archive { $0.symbolicLink("up", to: "..") }),
            ("a link into a later link out", archive {
                $0.symbolicLink("a", to: "b/escaped-chain")
                $0.symbolicLink("b", to: "../..")
            }),
            ("a hard link to /etc/passwd", archive { $0.hardLink("passwd", to: "/etc/passwd") }),
            ("a hard link to ../../x", archive { $0.hardLink("passwd", to: "../../x") }),
            ("a folder replaced by a link out", archive {
                $0.directory("d/")
                $0.symbolicLink("d", to: up)
                $0.file("d/escaped-replaced", "x")
            }),
        ]
        for (name, bytes) in archives {
            let key = "contexts/badinput-\(UUID().uuidString.prefix(8)).tar"
            let put = try await fixture.send(
                "artifact-service", "PUT", "/v1/artifacts/\(key)", body: .bytes(bytes), headers: ["Content-Type": "application/x-tar"])
            try #require(put.status == 201, "\(name): upload answered \(put.status)")
            try await fixture.check(
                BadInput(
                    input: name, service: "build-service", path: "/v1/builds",
                    json: jsonText(["context_key": key, "workload": "w", "service": "s"]),
                    expected: .failed(code: "CONTEXT_INVALID")))
        }
        try await fixture.check(
            BadInput(
                input: "a repository with links to absolute paths", service: "gateway", path: "/v1/builds",
                json: jsonText(["workload": "links", "service": "s", "repository": ["url": "{repo}", "ref": "main"]]),
                expected: .failed(code: "CONTEXT_INVALID")))
        let escaped = try FileManager.default.contentsOfDirectory(atPath: fixture.scratch.path).filter { $0.hasPrefix("escaped") }
        #expect(escaped.isEmpty, "written outside the build folder: \(escaped)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.scratch.path + "/outside").isEmpty)
        let builds = fixture.stack.work.appendingPathComponent("builds").path
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: builds)) ?? []).isEmpty, "run folders are removed")
    }

    // MARK: SQL, a token in the URL

    /// Treated as data: refused by the checks, or stored and given back as it was sent.
    @Test(arguments: BadInputCatalogue.sqlInputs)
    func sqlInStringFieldsIsData(_ input: BadInput) async throws {
        let fixture = try fixture
        let (answer, ended) = try await fixture.check(input)
        if let request = ended?["request"] {
            let stored = jsonText(["request": request])
            let sql = [BadInputCatalogue.sql, BadInputCatalogue.sqlQuoted, BadInputCatalogue.sqlRef, BadInputCatalogue.sqlURL]
            #expect(sql.contains { stored.contains(jsonString($0)) }, "the request is recorded as sent: \(stored)")
        }
        if input.method == "GET", input.path.hasPrefix("/v1/artifacts/sql/") {
            #expect(answer.text == "x", "the artifact under the SQL key holds what was put")
        }
        let jobs = try await fixture.stack.pool.query("SELECT count(*)::text AS n FROM jobs")
        #expect(jobs.count == 1, "the jobs table is still there")
    }

    /// A token in the query string does not authenticate and is not logged.
    @Test(arguments: BadInputCatalogue.tokenInURL)
    func aTokenInTheURLDoesNotAuthenticate(_ input: BadInput) async throws {
        let fixture = try fixture
        try await fixture.check(input)
        #expect(!fixture.service(input.service).logText.contains(fixture.stack.token), "the token is not logged")
    }
}
