import Foundation
import HTTPClient
import Postgres
import TestSupport
import Testing

/// A database that is away answers `503 UNAVAILABLE` with `Retry-After`, the status every spec
/// declares for it, not `500 INTERNAL`; and the services answer again by themselves once it is
/// back. Real processes, the real PostgreSQL taken away from them through a TCP relay.
@Suite(
    .serialized,
    .enabled(if: BuildStack.isAvailable, "needs the local stack's servers (deploy/local/up.sh --infra-only; source .local/env)"))
struct DatabaseUnavailableTests {
    @Test func everyServiceAnswers503WhileTheDatabaseIsAwayAndRecoversAfter() async throws {
        let gate = try TCPGate(target: try TestEnvironment.requireDatabaseURL())
        defer { gate.stop() }
        let processes: Set<String> = ["gateway", "checkout-service", "build-service", "artifact-service"]
        try await BuildStack.with(gatedDatabase: (gate, processes)) { stack in
            let before = try await stack.submit(Self.dryRun("before"))
            let unknown = UUID().uuidString.lowercased()
            // One database-backed route of each service that opens the database, and its answer
            // once the database is back.
            let reads: [(name: String, base: String, path: String, recovered: Int)] = [
                ("gateway", stack.gateway.baseURL, "/v1/jobs/\(before)", 200),
                ("checkout-service", stack.service("checkout-service").baseURL, "/v1/checkouts/\(unknown)", 404),
                ("build-service", stack.service("build-service").baseURL, "/v1/builds/\(unknown)", 404),
                ("artifact-service", stack.service("artifact-service").baseURL, "/v1/artifacts?prefix=none/", 200),
            ]

            gate.shut()
            var refusedSubmits = 0
            for attempt in 0..<5 {
                let (status, headers, body) = try await stack.send(
                    "POST", stack.gateway.baseURL + "/v1/builds", body: Self.dryRun("during-\(attempt)"))
                try Self.expectUnavailable(status, headers, body, "POST /v1/builds")
                if status == 503 { refusedSubmits += 1 }
            }
            for read in reads {
                let (status, headers, body) = try await stack.send("GET", read.base + read.path)
                try Self.expectUnavailable(status, headers, body, "\(read.name) GET \(read.path)")
            }
            let password = try #require(URLComponents(string: stack.databaseURL)?.password)
            for name in processes {
                let log = name == "gateway" ? stack.gateway.logText : stack.service(name).logText
                #expect(log.contains("a dependency is unavailable"), "\(name) logged the outage")
                #expect(!log.contains(password), "\(name) logged the database password")
            }

            gate.open()
            for read in reads {
                try await RunEndTests.eventually("\(read.name) answering again", timeout: .seconds(30)) {
                    try await stack.send("GET", read.base + read.path).status == read.recovered
                }
            }
            let after = try await stack.submit(Self.dryRun("after"))

            // Counted on both sides: the 503 submits left no job; the two answered 202 are stored.
            #expect(refusedSubmits == 5)
            let stored = try await stack.pool.query("SELECT id::text AS id FROM jobs ORDER BY created_at")
                .map { try $0.decode("id", as: String.self) }
            #expect(Set(stored) == [before, after], "stored \(stored)")
        }
    }

    static func dryRun(_ name: String) -> [String: Any] {
        [
            "workload": "outage-\(name)", "service": "api", "dry_run": true,
            "repository": ["url": "https://git.example.com/shop/api.git", "ref": "main"],
        ]
    }

    static func expectUnavailable(_ status: Int, _ headers: HTTPHeaders, _ body: [String: Any], _ what: String) throws {
        #expect(status == 503, "\(what) answered \(status): \(body)")
        #expect(headers["Content-Type"]?.hasPrefix("application/problem+json") == true, "\(what): \(headers)")
        #expect(headers["Retry-After"] == "1", "\(what): \(headers)")
        #expect(body["code"] as? String == "UNAVAILABLE", "\(what): \(body)")
        #expect(body["status"] as? Int == 503, "\(what): \(body)")
    }
}
