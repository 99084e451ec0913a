import Foundation
import HTTPClient
import Postgres
import Synchronization
import Testing

/// The stack the bad-input suite shares, started once for the suite: the five services with
/// known secrets (API token, S3 secret key, a git token and a registry password in their
/// configuration files), some records stored before any bad input arrives, and a repository
/// whose symbolic links lead outside it. When the suite is done, every service's log and every
/// row of the stack's database are searched for the secrets, and the records stored first are
/// compared with what is there now; a leak or a lost record fails the suite.
struct BadInputStack: SuiteTrait, TestScoping {
    @TaskLocal static var current: BadInputFixture?

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let fixture = try await BadInputFixture.start()
        do {
            try await Self.$current.withValue(fixture) { try await function() }
            let findings = try await fixture.audit()
            await fixture.stop()
            if !findings.isEmpty { throw AuditFailure(findings: findings) }
        } catch {
            await fixture.stop()
            throw error
        }
    }

    struct AuditFailure: Error, CustomStringConvertible {
        let findings: [String]
        var description: String { "after the bad inputs:\n" + findings.joined(separator: "\n") }
    }
}

final class BadInputFixture: Sendable {
    let stack: BuildStack
    /// Outside the stack's folder: the services' credential files, the secret file a repository
    /// links to, and where a command smuggled into a git URL would leave its mark.
    let scratch: URL
    /// Name → value; none may appear in a log or a stored row.
    let secrets: [String: String]
    /// A repository with a Dockerfile, a link to a file outside it and a link to a folder outside it.
    let repository: String
    /// An executable that creates `marker` when run: what `ext::` and `--upload-pack` would run.
    let script: String
    let marker: String
    /// Rows of every table before the bad inputs, as JSON text.
    private let before = Mutex<[String: Set<String>]>([:])
    static let seedArtifact = "seed/notes.txt"
    static let seedText = "stored before any bad input; must survive them all\n"

    private init(
        stack: BuildStack, scratch: URL, secrets: [String: String], repository: String, script: String, marker: String
    ) {
        self.stack = stack
        self.scratch = scratch
        self.secrets = secrets
        self.repository = repository
        self.script = script
        self.marker = marker
    }

    static func start() async throws -> BadInputFixture {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("badinput-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        do {
            return try await start(in: scratch)
        } catch {
            try? FileManager.default.removeItem(at: scratch)
            throw error
        }
    }

    private static func start(in scratch: URL) async throws -> BadInputFixture {
        let secrets = [
            "S3 secret key": try TestEnvironment.require("BUILDCHAIN_TEST_S3_SECRET_ACCESS_KEY"),
            "git password in a URL": "gitpw-\(UUID().uuidString)",
            "git token (credentials file)": "gittoken-\(UUID().uuidString)",
            "registry password (auth file)": "regpw-\(UUID().uuidString)",
            "file behind a symbolic link": "filesecret-\(UUID().uuidString)",
        ]
        let credentials = scratch.appendingPathComponent("git-credentials.json")
        try #"{"127.0.0.1:1": {"token": "\#(secrets["git token (credentials file)"]!)"}}"#
            .write(to: credentials, atomically: true, encoding: .utf8)
        let registryAuth = scratch.appendingPathComponent("registry-auth.json")
        let basic = Data("pusher:\(secrets["registry password (auth file)"]!)".utf8).base64EncodedString()
        try #"{"auths": {"\#(try TestEnvironment.require("BUILDCHAIN_TEST_REGISTRY"))": {"auth": "\#(basic)"}}}"#
            .write(to: registryAuth, atomically: true, encoding: .utf8)
        try secrets["file behind a symbolic link"]!.write(
            to: scratch.appendingPathComponent("secret.txt"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: scratch.appendingPathComponent("outside"), withIntermediateDirectories: true)
        let marker = scratch.appendingPathComponent("pwned").path
        let script = scratch.appendingPathComponent("pwn.sh").path
        try "#!/bin/sh\ntouch \(marker)\n".write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)

        let stack = try await BuildStack(serviceEnvironment: [
            "checkout-service": ["CHECKOUT_CREDENTIALS_FILE": credentials.path],
            "artifact-service": ["REGISTRY_AUTH_FILE": registryAuth.path],
        ])
        do {
            let repository = try stack.repository(
                "repo", files: ["Dockerfile": "FROM busybox:1.36\nCOPY . /app\n", "README": "a repository\n"])
            let directory = stack.work.appendingPathComponent("repo").path
            try FileManager.default.createSymbolicLink(
                atPath: directory + "/Dockerfile.leak", withDestinationPath: scratch.appendingPathComponent("secret.txt").path)
            try FileManager.default.createSymbolicLink(
                atPath: directory + "/outside", withDestinationPath: scratch.appendingPathComponent("outside").path)
            try BuildStack.git(in: directory, ["add", "-A"])
            try BuildStack.git(in: directory, ["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "links"])
            try Self.submoduleRepository(in: stack, url: "ext::\(script)")
            let fixture = BadInputFixture(
                stack: stack, scratch: scratch, secrets: secrets.merging(["API token": stack.token]) { $1 },
                repository: repository, script: script, marker: marker)
            try await fixture.seed()
            let rows = try await fixture.rows()
            fixture.before.withLock { $0 = rows }
            return fixture
        } catch {
            await stack.stop()
            throw error
        }
    }

    func stop() async {
        await stack.stop()
        try? FileManager.default.removeItem(at: scratch)
    }

    // MARK: records stored before the bad inputs

    /// An artifact, a checkout run that succeeded (its context stored too), and a job that failed.
    private func seed() async throws {
        let put = try await send(
            "artifact-service", "PUT", "/v1/artifacts/\(Self.seedArtifact)", body: .string(Self.seedText),
            headers: ["Content-Type": "text/plain"])
        try #require(put.status == 201, "seeding the artifact: \(put.status) \(put.json)")
        let checkout = try await send(
            "checkout-service", "POST", "/v1/checkouts", json: #"{"repository": "\#(repository)", "ref": "main"}"#)
        try #require(checkout.status == 202, "seeding a checkout: \(checkout.status) \(checkout.json)")
        let run = try await finished("checkout-service", "/v1/checkouts", checkout.json)
        try #require(run["status"] as? String == "succeeded", "the seed checkout: \(run)")
        let job = try await stack.submit([
            "workload": "seed", "service": "api", "repository": ["url": repository, "ref": "no-such-branch"],
        ])
        let ended = try await stack.wait(for: job, timeout: .seconds(60))
        try #require((ended["error"] as? [String: Any])?["code"] as? String == "REF_NOT_FOUND", "the seed job: \(ended)")
    }

    /// Every row of every table of the stack's database, as JSON text, by table.
    func rows() async throws -> [String: Set<String>] {
        let tables = try await stack.pool.query(
            "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        ).map { try $0.decode("name", as: String.self) }
        var rows: [String: Set<String>] = [:]
        for table in tables {
            let quoted = "\"" + table.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            rows[table] = Set(
                try await stack.pool.query("SELECT row_to_json(t)::text AS row FROM \(quoted) t").map {
                    try $0.decode("row", as: String.self)
                })
        }
        return rows
    }

    /// What is wrong after the bad inputs: secrets in logs or rows, records lost or changed.
    func audit() async throws -> [String] {
        var findings: [String] = []
        let logs = stack.services.values.map { ($0.name, $0.logText) } + stack.gateways.map { ($0.name, $0.logText) }
        let now = try await rows()
        for (name, secret) in secrets {
            for form in Self.forms(of: secret) {
                for (service, log) in logs where log.contains(form) { findings.append("the \(name) is in \(service)'s log") }
                for (table, rows) in now where rows.contains(where: { $0.contains(form) }) {
                    findings.append("the \(name) is in the table \(table)")
                }
            }
        }
        for (table, rows) in before.withLock({ $0 }) {
            guard let after = now[table] else {
                findings.append("the table \(table) is gone")
                continue
            }
            for row in rows.subtracting(after) { findings.append("a row of \(table) was lost or changed: \(row)") }
        }
        let artifact = try await send("artifact-service", "GET", "/v1/artifacts/\(Self.seedArtifact)")
        if artifact.status != 200 || artifact.text != Self.seedText {
            findings.append("the seeded artifact now answers \(artifact.status): \(artifact.text.prefix(200))")
        }
        if FileManager.default.fileExists(atPath: marker) { findings.append("a smuggled command ran: \(marker) exists") }
        return findings
    }

    /// A secret as it may be written: as is, in a JSON string (log lines escape "/" too), in
    /// base64 (basic auth), percent-encoded.
    private static func forms(of secret: String) -> Set<String> {
        [
            secret, jsonString(secret), jsonString(secret).replacingOccurrences(of: "/", with: #"\/"#),
            Data(secret.utf8).base64EncodedString(),
            secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? secret,
        ]
    }

    // MARK: calling the services

    struct Answer {
        let status: Int
        let headers: HTTPHeaders
        let body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
        var code: String? { json["code"] as? String }
    }

    func service(_ name: String) -> ServiceProcess { name == "gateway" ? stack.gateway : stack.service(name) }

    /// `method path` on `service` with the stack's token (unless `authorized` is false).
    func send(
        _ service: String, _ method: String, _ path: String, body: ClientRequestBody = .none, headers: HTTPHeaders = [:],
        authorized: Bool = true, timeout: Duration = .seconds(60)
    ) async throws -> Answer {
        var all = headers
        if authorized { all.set("Authorization", "Bearer \(stack.token)") }
        let response = try await stack.http.send(
            ClientRequest(
                method: method, url: self.service(service).baseURL + path, headers: all, body: body, timeout: timeout,
                retry: .never))
        return Answer(status: response.status, headers: response.headers, body: response.body)
    }

    func send(_ service: String, _ method: String, _ path: String, json: String) async throws -> Answer {
        try await send(service, method, path, body: .string(json), headers: ["Content-Type": "application/json"])
    }

    /// Waits for the run (a stage service's) or job (the gateway's) that `accepted` describes to end.
    func finished(_ service: String, _ path: String, _ accepted: [String: Any]) async throws -> [String: Any] {
        let id = try #require(accepted["id"] as? String, "no id in \(accepted)")
        if service == "gateway" { return try await stack.wait(for: id, timeout: .seconds(90)) }
        let deadline = ContinuousClock.now + .seconds(90)
        while true {
            let run = try await send(service, "GET", "\(path)/\(id)")
            let status = run.json["status"] as? String ?? ""
            if ["succeeded", "failed", "cancelled"].contains(status) { return run.json }
            try #require(ContinuousClock.now < deadline, "the run \(path)/\(id) did not end: \(run.json)")
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    // MARK: the processes

    /// The process's peak resident memory so far (`VmHWM`), in bytes.
    func peakMemory(of service: String) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(self.service(service).processID)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
        let kilobytes = try #require(Int(line.split(separator: " ")[1]))
        return kilobytes * 1024
    }

    /// `<repo>-submodule`: a repository whose one submodule is at `url`.
    private static func submoduleRepository(in stack: BuildStack, url: String) throws {
        _ = try stack.repository(
            "repo-submodule", files: [".gitmodules": "[submodule \"evil\"]\n\tpath = evil\n\turl = \(url)\n", "README": "x\n"])
        let directory = stack.work.appendingPathComponent("repo-submodule").path
        try BuildStack.git(in: directory, ["update-index", "--add", "--cacheinfo", "160000,\(String(repeating: "1", count: 40)),evil"])
        try BuildStack.git(in: directory, ["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "submodule"])
    }
}

/// A JSON body of `size` bytes made while it is sent: `{"<field>": "aaaa…"}`, never whole in
/// memory. `sent` counts the bytes the transfer took.
struct FloodBody: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let field: String
    let size: Int
    let sent = Counter()

    final class Counter: Sendable {
        private let value = Atomic<Int>(0)
        func add(_ count: Int) { value.add(count, ordering: .relaxed) }
        var count: Int { value.load(ordering: .relaxed) }
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let body: FloodBody
        var produced = 0
        static let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 256 << 10)

        mutating func next() async throws -> [UInt8]? {
            let head = Array(#"{"\#(body.field)": ""#.utf8)
            let tail = Array(#""}"#.utf8)
            let filler = body.size - head.count - tail.count
            let part: [UInt8]
            if produced == 0 {
                part = head
            } else if produced - head.count < filler {
                part = Array(Self.chunk.prefix(filler - (produced - head.count)))
            } else if produced < body.size {
                part = tail
            } else {
                return nil
            }
            produced += part.count
            body.sent.add(part.count)
            return part
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(body: self) }
}
