import ArtifactAPI
import ArtifactService
import BuildAPI
import BuildService
import CheckoutAPI
import CheckoutService
import Digests
import Foundation
import Gateway
import GatewayAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RequestValidation
import RewriteAPI
import RewriteService
import ServiceKit
import Testing

/// Walks every service's bundled spec and, for each limit it writes on a request (parameters
/// and JSON bodies: lengths, patterns, enums, ranges, formats, required and unknown members,
/// types, member names), sends the real service app a request just outside it (which must be
/// refused with the limit's status and stable code, as problem+json) and requests just inside
/// it (which must not be). A limit the walk cannot exercise fails the test unless `skipped`
/// says why.
@Suite(.enabled(if: TestEnvironment.hasDatabaseOrCI, "needs the local stack (deploy/local/up.sh --infra-only)"), .serialized)
struct ContractLimitTests {
    static let token = "limits-\(UUID().uuidString)"

    /// Limits not exercised here, by `Limit.description`, and why.
    static let skipped: [String: String] = [:]

    /// Valid base bodies where the spec's example would start work the test does not want
    /// (a fetch from a real host): a closed local port instead.
    static let baseBodies: [String: JSONNode] = [
        "startCheckout": .object(["repository": .string("https://127.0.0.1:9/app.git"), "ref": .string("main")]),
        "startBuild": .object([
            "context_key": .string("contexts/limits.tar.gz"), "workload": .string("shop"), "service": .string("api"),
        ]),
        "startPush": .object(["artifact_key": .string("images/limits.tar"), "destination": .string("127.0.0.1:9/limits/app:1")]),
    ]

    /// String units for a parameter's filler where `a` repeated would break a rule the spec
    /// cannot write: an artifact key's segments are at most 255 bytes.
    static let fillers: [String: [String]] = ["key": ["abcdefgh/"]]

    static func environment(_ extra: [String: String]) throws -> EnvironmentReader {
        var hash = SHA256()
        hash.update(token)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("limits-\(UUID().uuidString)").path
        let closed = "http://127.0.0.1:9"
        return EnvironmentReader(
            [
                "API_TOKEN": token, "API_TOKEN_SHA256": hash.finalize().hex, "PORT": "0",
                "DATABASE_URL": try TestEnvironment.requireDatabaseURL(), "GATEWAY_WORKERS": "0",
                "CHECKOUT_SERVICE_TOKEN": "t", "REWRITE_SERVICE_TOKEN": "t", "BUILD_SERVICE_TOKEN": "t", "ARTIFACT_SERVICE_TOKEN": "t",
                "CHECKOUT_SERVICE_URL": closed, "REWRITE_SERVICE_URL": closed, "BUILD_SERVICE_URL": closed,
                "ARTIFACT_SERVICE_URL": closed, "ARTIFACT_ROOT": "\(scratch)/artifacts", "BUILD_WORK_DIR": "\(scratch)/builds",
                "BUILD_DRIVER": "buildah", "CHECKOUT_CACHE_DIR": "\(scratch)/mirrors", "CHECKOUT_WORK_DIR": "\(scratch)/checkouts",
                "CHECKOUT_GIT_TIMEOUT": "10s", "REWRITE_PROXIES": "docker.io=harbor.example.com/dockerhub-proxy",
            ].merging(extra) { $1 })
    }

    @Test func gateway() async throws {
        let app = try await Gateway.buildApplication(configuration: GatewayConfiguration(reading: Self.environment([:])))
        try await exercise("gateway", spec: GatewayAPI.OpenAPIDocument.json, app)
    }

    @Test func checkoutService() async throws {
        let app = try await CheckoutService.buildApplication(configuration: CheckoutConfiguration(reading: Self.environment([:])))
        try await exercise("checkout-service", spec: CheckoutAPI.OpenAPIDocument.json, app)
    }

    @Test func rewriteService() async throws {
        let app = try await RewriteService.buildApplication(configuration: RewriteConfiguration(reading: Self.environment([:])))
        try await exercise("rewrite-service", spec: RewriteAPI.OpenAPIDocument.json, app)
    }

    @Test func buildService() async throws {
        let app = try await BuildService.buildApplication(configuration: BuildConfiguration(reading: Self.environment([:])))
        try await exercise("build-service", spec: BuildAPI.OpenAPIDocument.json, app)
    }

    @Test func artifactService() async throws {
        let app = try await ArtifactService.buildApplication(configuration: ArtifactConfiguration(reading: Self.environment([:])))
        try await exercise("artifact-service", spec: ArtifactAPI.OpenAPIDocument.json, app)
    }

    /// Sends the probes of every limit of `spec` to `app`; prints how many limits were checked.
    func exercise(_ service: String, spec: String, _ app: some ApplicationProtocol) async throws {
        let validator = try RequestValidator(spec: spec)
        let limits = validator.operations.flatMap(\.limits)
        let (checked, requests, unexercised) = try await app.test(.router) { client in
            var unexercised: [String] = []
            var checked = 0
            var requests = 0
            for limit in limits {
                if Self.skipped[limit.description] != nil { continue }
                let fillers = Self.fillers(for: limit) + ["a", "A", "0"]
                let probes = LimitProbes(limit: limit, fillers: fillers, baseBody: Self.baseBody(for: limit))
                guard let (outside, inside) = probes.probes() else {
                    unexercised.append(limit.description)
                    continue
                }
                let refused = try await send(outside, limit.operation, client)
                requests += 1
                expectRefused(refused, outside, by: limit)
                for probe in inside {
                    let answer = try await send(probe, limit.operation, client)
                    requests += 1
                    expectNotRefused(answer, probe, by: limit)
                }
                checked += 1
            }
            return (checked, requests, unexercised)
        }
        print("contract limits: \(service): \(checked) limits tested with \(requests) requests (of \(limits.count); \(limits.count - checked - unexercised.count) skipped)")
        #expect(unexercised.isEmpty, "\(service): limits the walk could not exercise (add to `skipped` with a reason): \(unexercised)")
        #expect(checked > 0, "\(service): no limit found in its spec")
    }

    /// The base body of the limit's operation. A lease token is refused without the `job_id` it
    /// is a lease of (a rule across header and body no schema writes), so its probes carry one.
    static func baseBody(for limit: Limit) -> JSONNode? {
        let body = baseBodies[limit.operation.id] ?? limit.operation.bodyExample
        guard case .parameter(let parameter) = limit.location, parameter.name == "Buildchain-Lease-Token",
            var members = body?.object
        else { return body }
        members["job_id"] = .string(UUID().uuidString.lowercased())
        return .object(members)
    }

    static func fillers(for limit: Limit) -> [String] {
        if case .parameter(let parameter) = limit.location { return fillers[parameter.name] ?? [] }
        return []
    }

    struct Answer {
        let status: Int
        let contentType: String
        let json: [String: Any]
        var code: String? { json["code"] as? String }
        var validationLimit: String? { (json["extensions"] as? [String: Any])?["limit"] as? String }
        let text: String
    }

    func send(_ probe: LimitProbe, _ operation: SpecOperation, _ client: any TestClientProtocol) async throws -> Answer {
        var headers: HTTPFields = [.authorization: "Bearer \(Self.token)"]
        for (name, value) in probe.headers { headers[HTTPField.Name(name)!] = value }
        var body: ByteBuffer?
        if let json = probe.body {
            headers[.contentType] = "application/json"
            body = ByteBuffer(bytes: try JSONEncoder().encode(json))
        }
        return try await client.execute(
            uri: probe.uri(operation), method: HTTPRequest.Method(probe.method)!, headers: headers, body: body
        ) { response in
            let text = String(buffer: response.body)
            return Answer(
                status: Int(response.status.code), contentType: response.headers[.contentType] ?? "",
                json: (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:], text: text)
        }
    }

    func expectRefused(_ answer: Answer, _ probe: LimitProbe, by limit: Limit) {
        #expect(answer.status == limit.problem.status, "\(limit) just outside: \(answer.status) \(answer.text.prefix(300))")
        guard probe.method != "HEAD" else { return }
        #expect(answer.contentType.hasPrefix("application/problem+json"), "\(limit): \(answer.contentType)")
        #expect(answer.code == limit.problem.code, "\(limit) just outside: \(answer.status) \(answer.text.prefix(300))")
        // (A path's value is in the problem's `instance`, the request's own path.)
        if let value = probe.probed, value.count >= 8, limit.keyword != "propertyNames", !limit.isPathParameter {
            #expect(!answer.text.contains(value), "\(limit): the refusal echoes the value")
        }
    }

    func expectNotRefused(_ answer: Answer, _ probe: LimitProbe, by limit: Limit) {
        let refusedHere = answer.status == limit.problem.status && answer.code == limit.problem.code
        #expect(
            !refusedHere && answer.validationLimit == nil && answer.status < 500,
            "\(limit) just inside (\(probe.probed.map { String($0.prefix(80)) } ?? "base")): \(answer.status) \(answer.text.prefix(300))")
    }
}

extension Limit {
    var isPathParameter: Bool {
        if case .parameter(let parameter) = location { parameter.location == .path } else { false }
    }
}
