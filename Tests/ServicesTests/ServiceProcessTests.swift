import Digests
import Foundation
import HTTPClient
import Testing

/// Every service executable starts, serves its operational endpoints,
/// guards the rest with the bearer token, and exits 0 on SIGTERM.
@Suite(.enabled(if: TestEnvironment.hasDatabaseOrCI, "needs BUILDCHAIN_TEST_DATABASE_URL (deploy/local/up.sh --infra-only)"))
struct ServiceProcessTests {
    static let services = ["gateway", "checkout-service", "rewrite-service", "build-service", "artifact-service"]
    let client = HTTPClient()

    @Test(arguments: services)
    func startsServesAndStopsCleanly(service: String) async throws {
        let token = "tok-\(UUID().uuidString)"
        let databaseURL = try TestEnvironment.requireDatabaseURL()
        let password = URLComponents(string: databaseURL)?.password
        var environment = ["API_TOKEN": token, "DATABASE_URL": databaseURL]
        if service == "gateway" {
            // The gateway holds only token hashes; with no workers it serves the API alone.
            environment["API_TOKEN_SHA256"] = SHA256.hash(token).hex
            environment["GATEWAY_WORKERS"] = "0"
            for prefix in ["CHECKOUT", "REWRITE", "BUILD", "ARTIFACT"] { environment["\(prefix)_SERVICE_TOKEN"] = "unused" }
        }
        let process = try await ServiceProcess(service, environment: environment)

        let health = try await client.send(ClientRequest(url: process.baseURL + "/healthz"))
        #expect(health.status == 200)
        #expect(health.text.contains("\"service\":\"\(service)\""))

        let ready = try await client.send(ClientRequest(url: process.baseURL + "/readyz"))
        #expect(ready.status == 200, "readyz: \(ready.text)")
        if service != "rewrite-service" { #expect(ready.text.contains("postgres")) }

        let metrics = try await client.send(
            ClientRequest(url: process.baseURL + "/metrics", headers: ["Authorization": "Bearer \(token)"]))
        #expect(metrics.status == 200)
        #expect(metrics.text.contains("hb_request"), "the request metrics of the earlier calls are exported")

        for header in [nil, "Bearer wrong-\(token)"] {
            let headers: HTTPHeaders = header.map { ["Authorization": $0] } ?? [:]
            let denied = try await client.send(ClientRequest(url: process.baseURL + "/metrics", headers: headers))
            #expect(denied.status == 401)
            #expect(denied.headers["Content-Type"] == "application/problem+json")
            #expect(denied.text.contains("\"code\":\"UNAUTHORIZED\""))
        }

        let status = await process.terminate()
        #expect(status == 0, "exit status after SIGTERM; log:\n\(process.logText)")
        let log = process.logText
        #expect(log.contains("\"msg\":\"listening\""), "logs are JSON lines")
        #expect(!log.contains(token), "the API token must not be logged")
        if let password { #expect(!log.contains(password), "the database password must not be logged") }
    }

    @Test func refusesToStartWithoutAToken() async throws {
        let process = Process()
        process.executableURL = ServiceProcess.binDirectory.appendingPathComponent("rewrite-service")
        process.environment = ["PORT": "0"]
        let stderr = Pipe()
        process.standardError = stderr
        try process.run()
        process.waitUntilExit()
        let message = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 2)
        #expect(message.contains("API_TOKEN"))
    }
}
