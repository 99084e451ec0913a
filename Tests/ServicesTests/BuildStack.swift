import Digests
import Foundation
import HTTPClient
import Logging
import Postgres
import S3
import Testing

/// The whole chain as real processes, wired like deploy/local: artifact-service on moto's S3
/// (signatures checked), checkout-service (file:// allowed), rewrite-service proxying Docker
/// Hub to the local registry's `dockerhub-proxy`, build-service with buildah, and gateways.
/// Each stack has a database of its own, so only its gateways see its jobs.
final class BuildStack: @unchecked Sendable {
    let token = "stack-\(UUID().uuidString)"
    let registry: String
    let work: URL
    let databaseURL: String
    private let databaseName: String
    let pool: PostgresPool
    private(set) var services: [String: ServiceProcess] = [:]
    private(set) var gateways: [ServiceProcess] = []
    /// With `buildReplicas` > 1: the build-service processes (`build-1`, `build-2`…, each with
    /// its own work folder) and the HAProxy in front of them that the gateways call.
    private(set) var buildReplicas: [ServiceProcess] = []
    private(set) var buildBalancer: LoadBalancer?
    let http = HTTPClient()
    private let gatewayEnvironment: [String: String]
    /// Settings of a stage service beyond the stack's own, by service name.
    private let serviceEnvironment: [String: [String: String]]
    /// The processes (service names, `gateway` for the gateways) that reach PostgreSQL through
    /// `databaseGate`, so a test can take the database away from them without stopping it.
    private let gatedDatabase: (gate: TCPGate, processes: Set<String>)?

    static var isAvailable: Bool {
        TestEnvironment.isCI
            || (TestEnvironment.databaseURL != nil && TestEnvironment.variables["BUILDCHAIN_TEST_S3_ENDPOINT"] != nil
                && TestEnvironment.variables["BUILDCHAIN_TEST_REGISTRY"] != nil)
    }

    /// Starts the stage services (build-service `buildReplicas` times behind HAProxy when more
    /// than one) and `gateways` gateways (`gateway-0`, `gateway-1`…).
    init(
        gateways count: Int = 1, buildReplicas: Int = 1, gatewayEnvironment: [String: String] = [:],
        serviceEnvironment: [String: [String: String]] = [:], gatedDatabase: (gate: TCPGate, processes: Set<String>)? = nil
    ) async throws {
        registry = try TestEnvironment.require("BUILDCHAIN_TEST_REGISTRY")
        work = FileManager.default.temporaryDirectory.appendingPathComponent("stack-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        self.gatewayEnvironment = gatewayEnvironment
        self.serviceEnvironment = serviceEnvironment
        self.gatedDatabase = gatedDatabase
        let admin = PostgresPool(
            configuration: PostgresConfiguration(conninfo: try TestEnvironment.requireDatabaseURL(), maxConnections: 1),
            logger: Logger(label: "stack"))
        databaseName = "stack_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12))"
        try await admin.execute("CREATE DATABASE \(databaseName)")
        admin.close()
        let base = try TestEnvironment.requireDatabaseURL().prefix { $0 != "?" }
        databaseURL = base[..<(base.lastIndex(of: "/") ?? base.endIndex)] + "/\(databaseName)"
        pool = PostgresPool(
            configuration: PostgresConfiguration(conninfo: databaseURL, maxConnections: 2), logger: Logger(label: "stack"))

        // The artifact store first: checkout and build need it.
        try await start("artifact-service")
        for name in ["checkout-service", "rewrite-service"] { try await start(name) }
        if buildReplicas > 1 {
            for index in 1...buildReplicas {
                try await start(
                    "build-service",
                    extra: ["INSTANCE_ID": "build-\(index)", "BUILD_WORK_DIR": buildFolder(replica: index).path])
                self.buildReplicas.append(services["build-service"]!)
            }
            services["build-service"] = self.buildReplicas[0]
            buildBalancer = try await LoadBalancer(name: "build-service", replicas: self.buildReplicas, http: http)
        } else {
            try await start("build-service")
        }
        for index in 0..<count { _ = try await startGateway(instance: "gateway-\(index)") }
    }

    /// The gateway started last (after a crash test kills one, its successor).
    /// Runs `body` on a new stack and stops it afterwards, whether or not `body` threw.
    static func with(
        gateways: Int = 1, buildReplicas: Int = 1, environment: [String: String] = [:],
        services: [String: [String: String]] = [:],
        gatedDatabase: (gate: TCPGate, processes: Set<String>)? = nil, _ body: (BuildStack) async throws -> Void
    ) async throws {
        let stack = try await BuildStack(
            gateways: gateways, buildReplicas: buildReplicas, gatewayEnvironment: environment, serviceEnvironment: services,
            gatedDatabase: gatedDatabase)
        do {
            try await body(stack)
            await stack.stop()
        } catch {
            await stack.stop()
            throw error
        }
    }

    var gateway: ServiceProcess { gateways[gateways.count - 1] }

    /// (Re)starts a stage service; on `port` when given (a restart the gateways can find again),
    /// with `extra` settings last.
    func start(_ name: String, port: Int? = nil, extra: [String: String] = [:]) async throws {
        var environment = common(for: name)
        for (key, value) in try settings(of: name) { environment[key] = value }
        for (key, value) in serviceEnvironment[name] ?? [:] { environment[key] = value }
        for (key, value) in extra { environment[key] = value }
        if let port { environment["PORT"] = "\(port)" }
        services[name] = try await ServiceProcess(name, environment: environment)
    }

    func service(_ name: String) -> ServiceProcess { services[name]! }

    /// Where build-service replica `replica` (from 1) keeps its builds.
    func buildFolder(replica: Int) -> URL { work.appendingPathComponent("builds-\(replica)") }

    /// Starts a gateway named `instance`, with `extra` settings last.
    @discardableResult
    func startGateway(instance: String, extra: [String: String] = [:]) async throws -> ServiceProcess {
        var environment = common(for: "gateway")
        environment["INSTANCE_ID"] = instance
        environment["API_TOKEN_SHA256"] = SHA256.hash(token).hex
        let urls = [
            "CHECKOUT": "checkout-service", "REWRITE": "rewrite-service", "BUILD": "build-service",
            "ARTIFACT": "artifact-service",
        ]
        for (prefix, name) in urls {
            environment["\(prefix)_SERVICE_URL"] = service(name).baseURL
            environment["\(prefix)_SERVICE_TOKEN"] = token
        }
        if let buildBalancer { environment["BUILD_SERVICE_URL"] = buildBalancer.baseURL }
        environment["JOB_LEASE"] = "3s"
        environment["RUN_STALE_AFTER"] = "15s"
        environment["STAGE_RETRY_BACKOFF"] = "200ms"
        environment["STAGE_RETRIES"] = "2"
        environment["JOB_POLL_INTERVAL"] = "200ms"
        for (key, value) in gatewayEnvironment { environment[key] = value }
        for (key, value) in extra { environment[key] = value }
        let process = try await ServiceProcess("gateway", environment: environment)
        gateways.append(process)
        return process
    }

    private func common(for process: String) -> [String: String] {
        var url = databaseURL
        if let (gate, processes) = gatedDatabase, processes.contains(process), var components = URLComponents(string: url) {
            components.host = "127.0.0.1"
            components.port = gate.port
            url = components.string ?? url
        }
        return [
            "API_TOKEN": token, "DATABASE_URL": url,
            "PATH": TestEnvironment.variables["PATH"] ?? "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        ]
    }

    private func settings(of name: String) throws -> [String: String] {
        switch name {
        case "artifact-service":
            return [
                "ARTIFACT_BACKEND": "s3", "ARTIFACT_ROOT": work.appendingPathComponent("artifacts").path,
                "S3_ENDPOINT": try TestEnvironment.require("BUILDCHAIN_TEST_S3_ENDPOINT"),
                "S3_REGION": TestEnvironment.variables["BUILDCHAIN_TEST_S3_REGION"] ?? "us-east-1",
                "S3_BUCKET": try TestEnvironment.require("BUILDCHAIN_TEST_S3_BUCKET"),
                "S3_ACCESS_KEY_ID": try TestEnvironment.require("BUILDCHAIN_TEST_S3_ACCESS_KEY_ID"),
                "S3_SECRET_ACCESS_KEY": try TestEnvironment.require("BUILDCHAIN_TEST_S3_SECRET_ACCESS_KEY"),
            ]
        case "checkout-service":
            return [
                "CHECKOUT_ALLOW_FILE_URLS": "true", "CHECKOUT_CACHE_DIR": work.appendingPathComponent("mirrors").path,
                "CHECKOUT_WORK_DIR": work.appendingPathComponent("checkouts").path,
                "ARTIFACT_SERVICE_URL": service("artifact-service").baseURL,
            ]
        case "rewrite-service":
            return ["REWRITE_PROXIES": "docker.io=\(registry)/dockerhub-proxy"]
        case "build-service":
            return [
                "BUILD_WORK_DIR": work.appendingPathComponent("builds").path, "CACHE_REGISTRY": registry,
                "REGISTRY_MIRROR": "\(registry)/dockerhub-proxy", "ARTIFACT_SERVICE_URL": service("artifact-service").baseURL,
            ]
        default:
            return [:]
        }
    }

    func stop() async {
        for gateway in gateways { _ = await gateway.terminate() }
        buildBalancer?.stop()
        for replica in buildReplicas.dropFirst() { _ = await replica.terminate() }
        for name in ["build-service", "checkout-service", "rewrite-service", "artifact-service"] {
            _ = await services[name]?.terminate()
        }
        pool.close()
        let admin = try? PostgresPool(
            configuration: PostgresConfiguration(conninfo: TestEnvironment.requireDatabaseURL(), maxConnections: 1),
            logger: Logger(label: "stack"))
        _ = try? await admin?.execute("DROP DATABASE \(databaseName) WITH (FORCE)")
        admin?.close()
        try? FileManager.default.removeItem(at: work)
    }

    /// The stack's bucket, straight (not through artifact-service).
    func bucket() throws -> S3Client {
        try S3Client(
            configuration: S3Configuration(
                endpoint: try TestEnvironment.require("BUILDCHAIN_TEST_S3_ENDPOINT"),
                region: TestEnvironment.variables["BUILDCHAIN_TEST_S3_REGION"] ?? "us-east-1",
                bucket: try TestEnvironment.require("BUILDCHAIN_TEST_S3_BUCKET"),
                accessKeyID: try TestEnvironment.require("BUILDCHAIN_TEST_S3_ACCESS_KEY_ID"),
                secretAccessKey: try TestEnvironment.require("BUILDCHAIN_TEST_S3_SECRET_ACCESS_KEY")),
            httpClient: http)
    }

    /// The SHA-256 and size of the object `key` as S3 holds it.
    func storedDigest(of key: String) async throws -> (sha256: String, size: Int) {
        var digest = SHA256()
        var size = 0
        for try await chunk in try await bucket().getObject(key: key).body {
            digest.update(chunk)
            size += chunk.count
        }
        return (digest.finalize().hex, size)
    }

    // MARK: calling the gateway

    func call(
        _ method: String, _ path: String, body: [String: Any]? = nil, via gateway: ServiceProcess? = nil
    ) async throws -> (status: Int, json: [String: Any]) {
        let answer = try await send(method, (gateway ?? self.gateway).baseURL + path, body: body)
        return (answer.status, answer.json)
    }

    /// Any service of the stack, with its token: the answer's status, headers and JSON body.
    func send(
        _ method: String, _ url: String, body: [String: Any]? = nil
    ) async throws -> (status: Int, headers: HTTPHeaders, json: [String: Any]) {
        let bytes = try body.map { Array(try JSONSerialization.data(withJSONObject: $0)) }
        let response = try await http.send(
            ClientRequest(
                method: method, url: url,
                headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"],
                body: bytes.map { .bytes($0) } ?? .none, timeout: .seconds(30)))
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return (response.status, response.headers, json)
    }

    /// Submits a build and returns the job id.
    func submit(_ body: [String: Any]) async throws -> String {
        let (status, job) = try await call("POST", "/v1/builds", body: body)
        try #require(status == 202, "submit answered \(status): \(job)")
        return try #require(job["id"] as? String)
    }

    func job(_ id: String) async throws -> [String: Any] {
        let (status, job) = try await call("GET", "/v1/jobs/\(id)")
        try #require(status == 200, "GET job answered \(status)")
        return job
    }

    /// Polls the job until `done` holds (by default: it ended); fails after `timeout`.
    @discardableResult
    func wait(
        for id: String, timeout: Duration = .seconds(180), until done: ([String: Any]) -> Bool = BuildStack.ended
    ) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let job = try await job(id)
            if done(job) { return job }
            if ContinuousClock.now > deadline {
                Issue.record("job \(id) did not get there in \(timeout): \(job["state"] ?? "?") \(Self.stages(job))")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    static func ended(_ job: [String: Any]) -> Bool {
        ["succeeded", "failed", "cancelled"].contains(job["state"] as? String ?? "")
    }

    static func stages(_ job: [String: Any]) -> [String: [String: Any]] {
        let list = job["stages"] as? [[String: Any]] ?? []
        return Dictionary(uniqueKeysWithValues: list.map { ($0["name"] as? String ?? "", $0) })
    }

    /// A git repository at `work/<name>` with `files`, committed on `main`; its file:// URL.
    func repository(_ name: String, files: [String: String]) throws -> String {
        let directory = work.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (path, text) in files {
            try text.write(to: directory.appendingPathComponent(path), atomically: true, encoding: .utf8)
        }
        try Self.git(in: directory.path, ["init", "-q", "-b", "main"])
        try Self.git(in: directory.path, ["add", "-A"])
        try Self.git(in: directory.path, ["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "init"])
        return "file://\(directory.path)"
    }

    /// `git -C directory arguments…`, which must succeed.
    static func git(in directory: String, _ arguments: [String]) throws {
        let git = Process()
        git.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        git.arguments = ["-C", directory] + arguments
        try git.run()
        git.waitUntilExit()
        try #require(git.terminationStatus == 0, "git \(arguments)")
    }
}
