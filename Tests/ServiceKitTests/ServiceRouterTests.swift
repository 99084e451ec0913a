import Foundation
import HTTPClient
import Hummingbird
import HummingbirdTesting
import HTTPTypes
import ServiceKit
import Testing

@Suite struct ServiceRouterTests {
    static let token = "test-token-\(UUID().uuidString)"

    struct Boom: Error, CustomStringConvertible { var description: String { "secret-detail-\(ServiceRouterTests.token)" } }
    /// A dependency's failure, passing (`transient`) or not.
    struct DependencyFailure: TransientDependencyError {
        var isTransient: Bool
        var dependency: String { "the database" }
    }

    func makeApp(
        readiness: [ReadinessCheck] = [], maxBodyBytes: Int = 4096,
        extraRoutes: (Router<ServiceRequestContext>) -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let service = ServiceApplication(
            name: "test-service",
            configuration: CommonConfiguration(port: 0, apiToken: Secret(Self.token), maxBodyBytes: maxBodyBytes))
        let router = service.makeRouter(readiness: readiness)
        router.post("/echo") { request, context in
            String(buffer: try await request.collectBody(limitedBy: context))
        }
        router.get("/conflict") { _, _ -> String in throw ServiceError.conflict("already there", code: "ALREADY_THERE") }
        router.get("/boom") { _, _ -> String in throw Boom() }
        router.get("/away") { _, _ -> String in throw DependencyFailure(isTransient: true) }
        router.get("/refused") { _, _ -> String in throw DependencyFailure(isTransient: false) }
        extraRoutes(router)
        return service.makeApplication(router: router)
    }

    var auth: HTTPFields { [.authorization: "Bearer \(Self.token)"] }

    func problem(_ response: TestResponse) throws -> [String: Any] {
        #expect(response.headers[.contentType] == "application/problem+json")
        return try #require(JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any])
    }

    @Test func healthzIsOpenWithoutAToken() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"status\":\"ok\""))
            }
        }
    }

    @Test(arguments: [nil, "Bearer wrong", "Basic abc", "Bearer"])
    func rejectsAMissingOrWrongTokenWithProblemJSON(header: String?) async throws {
        try await makeApp().test(.router) { client in
            let headers: HTTPFields = header.map { [.authorization: $0] } ?? [:]
            try await client.execute(uri: "/metrics", method: .get, headers: headers) { response in
                #expect(response.status == .unauthorized)
                let body = try problem(response)
                #expect(body["code"] as? String == "UNAUTHORIZED")
                #expect(body["status"] as? Int == 401)
            }
        }
    }

    @Test func servesPrometheusMetricsWithAToken() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get, headers: auth) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            }
        }
    }

    @Test func readyzReportsEachCheck() async throws {
        let checks = [
            ReadinessCheck("good") {},
            ReadinessCheck("bad") { throw CancellationError() },
        ]
        try await makeApp(readiness: checks).test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = try problem(response)
                #expect(body["code"] as? String == "NOT_READY")
                let details = try #require(body["extensions"] as? [String: String])
                #expect(details["good"] == "ok")
                #expect(details["bad"]?.hasPrefix("failed") == true)
            }
        }
        try await makeApp(readiness: [checks[0]]).test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func unknownRoutesAreProblemJSON() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/v1/nothing", method: .get, headers: auth) { response in
                #expect(response.status == .notFound)
                let code = try problem(response)["code"] as? String
                #expect(code == "NOT_FOUND")
            }
        }
    }

    @Test func serviceErrorsKeepTheirStatusAndCode() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/conflict", method: .get, headers: auth) { response in
                #expect(response.status == .conflict)
                let body = try problem(response)
                #expect(body["code"] as? String == "ALREADY_THERE")
                #expect(body["detail"] as? String == "already there")
                #expect(body["instance"] as? String == "/conflict")
            }
        }
    }

    @Test func unexpectedErrorsAre500WithoutTheirCause() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/boom", method: .get, headers: auth) { response in
                #expect(response.status == .internalServerError)
                let code = try problem(response)["code"] as? String
                #expect(code == "INTERNAL")
                #expect(!String(buffer: response.body).contains(Self.token))
            }
        }
    }

    @Test func aDependencyAwayForAMomentIs503WithRetryAfter() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/away", method: .get, headers: auth) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "1")
                let body = try problem(response)
                #expect(body["code"] as? String == "UNAVAILABLE")
                #expect((body["detail"] as? String)?.hasPrefix("the database is unavailable") == true)
            }
            // The same dependency refusing for good is no outage: a 500, and no Retry-After.
            try await client.execute(uri: "/refused", method: .get, headers: auth) { response in
                #expect(response.status == .internalServerError)
                #expect(response.headers[.retryAfter] == nil)
                let code = try problem(response)["code"] as? String
                #expect(code == "INTERNAL")
            }
        }
    }

    @Test func bodiesOverTheLimitAre413() async throws {
        try await makeApp(maxBodyBytes: 1024).test(.router) { client in
            let big = "{\"name\":\"" + String(repeating: "x", count: 5000) + "\"}"
            try await client.execute(uri: "/echo", method: .post, headers: auth, body: ByteBuffer(string: big)) {
                response in
                #expect(response.status == .contentTooLarge)
                let code = try problem(response)["code"] as? String
                #expect(code == "BODY_TOO_LARGE")
            }
        }
    }

    @Test func echoesASaneRequestIDAndReplacesAnInsaneOne() async throws {
        try await makeApp().test(.router) { client in
            var headers = auth
            headers[HTTPField.Name("X-Request-Id")!] = "abc-123"
            try await client.execute(uri: "/nothing", method: .get, headers: headers) { response in
                #expect(response.headers[HTTPField.Name("X-Request-Id")!] == "abc-123")
                let request_id = try problem(response)["request_id"] as? String
                #expect(request_id == "abc-123")
            }
            headers[HTTPField.Name("X-Request-Id")!] = "bad id\u{7}"
            try await client.execute(uri: "/healthz", method: .get, headers: headers) { response in
                let id = try #require(response.headers[HTTPField.Name("X-Request-Id")!])
                #expect(id != "bad id\u{7}")
                #expect(UUID(uuidString: id) != nil)
            }
        }
    }

    @Test func continuesTheCallersTraceIntoOutboundCalls() async throws {
        // A second server reports the traceparent it receives.
        let downstream = Router()
        downstream.get("/seen") { request, _ in request.headers[HTTPField.Name("traceparent")!] ?? "" }
        let downstreamApp = Application(router: downstream, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await downstreamApp.test(.live) { downstreamClient in
            let url = "http://127.0.0.1:\(try #require(downstreamClient.port))/seen"
            let app = makeApp { router in
                router.get("/call") { _, _ in
                    try await HTTPClient().send(ClientRequest(url: url)).text
                }
            }
            try await app.test(.router) { client in
                var headers = auth
                let incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
                headers[HTTPField.Name("traceparent")!] = incoming
                try await client.execute(uri: "/call", method: .get, headers: headers) { response in
                    let seen = String(buffer: response.body)
                    let ours = try #require(response.headers[HTTPField.Name("traceparent")!])
                    #expect(seen == ours)
                    #expect(seen.hasPrefix("00-0af7651916cd43dd8448eb211c80319c-"))
                    #expect(seen != incoming)
                }
            }
        }
    }
}
