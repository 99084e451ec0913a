import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// `POST /v1/builds` in its plain form (JSON in, JSON accepted) is answered by `SubmitFastPath`,
/// any other form by the generated route: the real gateway app answers the same requests both
/// ways with the same status, headers and body (ids and times aside), records each once, and
/// shows each job the same way afterwards.
@Suite(.enabled(if: TestEnvironment.hasDatabaseOrCI, "needs the local stack (deploy/local/up.sh --infra-only)"), .serialized)
struct SubmitFastPathTests {
    /// The generated route takes this `Accept` (JSON is among the types); the fast path does not.
    static let generatedRouteAccept = "application/json, text/plain"

    @Test func thePlainFormIsAnsweredAsTheGeneratedRouteAnswersIt() async throws {
        let workload = "fastpath-\(UInt32.random(in: 0...UInt32.max))"
        let bodies: [String] = [
            #"{"workload":"\#(workload)","service":"api","repository":{"url":"https://git.example.com/shop/api.git","ref":"main"},"dry_run":true}"#,
            #"{"workload":"\#(workload)","service":"web","repository":{"url":"https://git.example.com/a/b.git","ref":"v1.2"},"build_args":{"Z":"1","A_b":"x/y \"q\" \\ \u0001 é 😀","a":""},"context_path":"apps/web","dockerfile_path":"apps/web/Dockerfile","target":"runtime","cache":false,"mirrors":true,"fresh":true,"dry_run":true,"push":{"destination":"registry.example.com/shop/web:1"}}"#,
            #"{"workload":"\#(workload)","service":"api","repository":{"url":"https://git.example.com/a.git","ref":"main"},"build_args":{"API_KEY":"hunter2"},"secret_build_args":{"NPM_TOKEN":"s3cret"},"dry_run":true}"#,
        ]
        let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let app = try await Gateway.buildApplication(
            configuration: GatewayConfiguration(reading: ContractLimitTests.environment(["SECRETS_KEY": key])))
        try await app.test(.router) { client in
            for body in bodies {
                let fast = try await Self.post(body, accept: nil, client)
                let generated = try await Self.post(body, accept: Self.generatedRouteAccept, client)
                #expect(fast.status == 202, "\(fast.text)")
                #expect(fast.status == generated.status)
                #expect(fast.contentType == generated.contentType)
                #expect(fast.contentType == "application/json; charset=utf-8")
                #expect(Self.normalised(fast.location) == Self.normalised(generated.location))
                #expect(Self.normalised(fast.text) == Self.normalised(generated.text))
                #expect(!fast.text.contains("hunter2") && !fast.text.contains("s3cret"))
                for answer in [fast, generated] {
                    let id = try #require(answer.json["id"] as? String)
                    #expect(answer.location == "/v1/jobs/\(id)")
                }
                let shownFast = try await Self.get(fast.location ?? "", client)
                let shownGenerated = try await Self.get(generated.location ?? "", client)
                #expect(shownFast.status == 200)
                #expect(Self.normalised(shownFast.text) == Self.normalised(shownGenerated.text))
            }
            // A secret-looking build arg is masked in the answer, so it shows the request as read
            // back, not as submitted: the one body the answer does not splice in as recorded.
            // Each request recorded one job, whichever way it was answered.
            let listed = try await Self.get("/v1/jobs?workload=\(workload)&limit=100", client)
            #expect((listed.json["jobs"] as? [Any])?.count == 2 * bodies.count, "\(listed.text.prefix(300))")
        }
    }

    @Test func otherFormsAndBadBodiesGetTheGeneratedRoutesAnswers() async throws {
        let app = try await Gateway.buildApplication(configuration: GatewayConfiguration(reading: ContractLimitTests.environment([:])))
        try await app.test(.router) { client in
            // Not JSON for the route's decoder: the generated route's 400, as before.
            let missing = try await Self.post(#"{"workload":"w"}"#, accept: nil, client)
            #expect(missing.status == 400 && missing.json["code"] as? String == "INVALID_JSON", "\(missing.text)")
            let wrongType = try await Self.post(
                #"{"workload":"w","service":"s","repository":{"url":"https://h/a.git","ref":"main"},"cache":"no"}"#, accept: nil, client)
            #expect(wrongType.status == 400, "\(wrongType.text)")
            // A Content-Type the route does not take: refused before anything is recorded.
            let text = try await Self.post(
                #"{"workload":"w","service":"s","repository":{"url":"https://h/a.git","ref":"main"}}"#, accept: nil,
                contentType: "text/plain", client)
            #expect(text.status == 415 || text.status == 400, "\(text.status) \(text.text)")
            #expect(text.contentType.hasPrefix("application/problem+json"))
            // What the handler throws is answered the same both ways: secrets on a gateway that
            // has no key to seal them with.
            let secret = #"{"workload":"w","service":"s","repository":{"url":"https://h/a.git","ref":"main"},"secret_build_args":{"T":"v"}}"#
            let fast = try await Self.post(secret, accept: nil, client)
            let generated = try await Self.post(secret, accept: Self.generatedRouteAccept, client)
            #expect(fast.status == 422 && fast.json["code"] as? String == "SECRETS_NOT_CONFIGURED", "\(fast.text)")
            #expect(fast.status == generated.status && fast.contentType == generated.contentType)
            for member in ["type", "title", "status", "code", "detail", "instance"] {
                #expect("\(fast.json[member] ?? "none")" == "\(generated.json[member] ?? "none")", "\(member)")
            }
        }
    }

    @Test func thePlainFormIsJSONInAndJSONAccepted() {
        func takes(_ contentType: String?, _ accept: [String]) -> Bool {
            var headers = HTTPFields()
            if let contentType { headers[.contentType] = contentType }
            for value in accept { headers.append(HTTPField(name: .accept, value: value)) }
            return SubmitFastPath.takesPlainForm(headers)
        }
        #expect(takes("application/json", []))
        #expect(takes("Application/JSON; charset=UTF-8", []))
        #expect(takes("application/json", ["*/*"]))
        #expect(takes("application/json", ["application/json", "application/*"]))
        #expect(!takes(nil, []))
        #expect(!takes("text/plain", []))
        #expect(!takes("application/json; charset=latin1", []))
        #expect(!takes("application/json", ["text/html"]))
        #expect(!takes("application/json", [Self.generatedRouteAccept]))
        #expect(!takes("application/json", ["application/json;q=0.5"]))
        #expect(!takes("application/json", ["*/*", "text/html"]))
    }

    // MARK: -

    struct Answer {
        var status: Int
        var contentType: String
        var location: String?
        var text: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
    }

    static func post(
        _ body: String, accept: String?, contentType: String = "application/json", _ client: any TestClientProtocol
    ) async throws -> Answer {
        var headers: HTTPFields = [.authorization: "Bearer \(ContractLimitTests.token)", .contentType: contentType]
        if let accept { headers[.accept] = accept }
        return try await client.execute(uri: "/v1/builds", method: .post, headers: headers, body: ByteBuffer(string: body)) {
            answer($0)
        }
    }

    static func get(_ path: String, _ client: any TestClientProtocol) async throws -> Answer {
        try await client.execute(uri: path, method: .get, headers: [.authorization: "Bearer \(ContractLimitTests.token)"]) {
            answer($0)
        }
    }

    private static func answer(_ response: TestResponse) -> Answer {
        Answer(
            status: Int(response.status.code), contentType: response.headers[.contentType] ?? "",
            location: response.headers[.location], text: String(buffer: response.body))
    }

    /// `text` with job ids and timestamps replaced, the parts two submits of one body differ in.
    static func normalised(_ text: String?) -> String? {
        text.map {
            $0.replacing(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/, with: "ID")
                .replacing(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/, with: "TIME")
        }
    }
}
