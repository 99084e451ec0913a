import Foundation
import GatewayAPI
import OpenAPITransport
import Testing

/// The README's "Calling buildchain from your own tooling" example, compiled and run against a
/// real gateway: the `BuildchainClient` product (GatewayAPI + OpenAPITransport) submits a dry
/// run and reads its status back.
@Suite(
    .serialized,
    .enabled(if: BuildStack.isAvailable, "needs the local stack's servers (deploy/local/up.sh --infra-only; source .local/env)"))
struct ClientLibraryExampleTests {
    /// The README's code, word for word but for the gateway's URL and token, and `dryRun`.
    static func submitAndReadStatus(gatewayURL: URL, token: String) async throws -> (String, Components.Schemas.JobState) {
        let client = Client(
            serverURL: gatewayURL,
            transport: HTTPClientTransport(),
            middlewares: [BearerToken(token)])

        let request = Components.Schemas.BuildRequest(
            workload: "shop", service: "api",
            repository: .init(url: "https://git.example.com/shop/api.git", ref: "main"),
            dryRun: true)
        let job = try await client.submitBuild(body: .json(request)).accepted.body.json
        print("job \(job.id): \(job.state)")

        let status = try await client.getJob(path: .init(id: job.id)).ok.body.json
        print(status.state, status.stages.map { "\($0.name): \($0.status)" })
        return (job.id, status.state)
    }

    @Test func theREADMEExampleSubmitsAJobAndReadsItsStatus() async throws {
        try await BuildStack.with { stack in
            let (id, state) = try await Self.submitAndReadStatus(
                gatewayURL: try #require(URL(string: stack.gateway.baseURL)), token: stack.token)
            #expect(state == .cancelled, "a dry run ends at once, cancelled with DRY_RUN")
            let recorded = try await stack.job(id)
            #expect((recorded["error"] as? [String: Any])?["code"] as? String == "DRY_RUN")

            // The README's way to read a refusal.
            let client = Client(
                serverURL: try #require(URL(string: stack.gateway.baseURL)), transport: HTTPClientTransport(),
                middlewares: [BearerToken(stack.token)])
            let bad = Components.Schemas.BuildRequest(
                workload: "Not A Name", service: "api", repository: .init(url: "https://git.example.com/a.git", ref: "main"))
            switch try await client.submitBuild(body: .json(bad)) {
            case .badRequest(let answer):
                let problem = try answer.body.applicationProblemJson
                #expect(problem.code == "INVALID_BUILD" && problem.detail?.contains("workload") == true)
            default:
                Issue.record("a workload that is no name is refused with 400")
            }
        }
    }
}
