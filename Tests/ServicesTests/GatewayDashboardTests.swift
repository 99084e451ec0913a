import Foundation
import HTTPClient
import Testing

/// The dashboard in a real browser (headless Chromium through Playwright, see
/// Browser/dashboard_check.py) over jobs really run on the chain. Screenshots are kept under
/// `.artifacts/screenshots/` (git-ignored).
@Suite(
    .serialized,
    .enabled(if: BuildStack.isAvailable, "needs the local stack's servers (deploy/local/up.sh --infra-only; source .local/env)"))
struct GatewayDashboardTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func thePagesShowTheJobsAsRecordedAndTheButtonsWork() async throws {
        try await BuildStack.with { stack in
            let ok = try stack.repository("ok", files: ["Dockerfile": GatewayEndToEndTests.dockerfile(), "greeting.txt": "ui \(UUID())\n"])
            let slow = try stack.repository("slow", files: ["Dockerfile": GatewayEndToEndTests.dockerfile(run: "sleep 60"), "greeting.txt": "slow \(UUID())\n"])
            func request(_ url: String, ref: String = "main", push: String? = nil) -> [String: Any] {
                var body: [String: Any] = ["workload": "dash", "service": "web", "repository": ["url": url, "ref": ref]]
                if let push { body["push"] = ["destination": push] }
                return body
            }
            let okID = try await stack.submit(request(ok, push: "\(stack.registry)/e2e/dash-\(UUID().uuidString.prefix(6).lowercased()):1"))
            let okJob = try await stack.wait(for: okID)
            try #require(okJob["state"] as? String == "succeeded")
            let failedID = try await stack.submit(request(ok, ref: "no-such-ref"))
            try await stack.wait(for: failedID)
            let slowID = try await stack.submit(request(slow))
            try await stack.wait(for: slowID) { BuildStack.stages($0)["build"]?["run_id"] is String }

            // A form posted without its CSRF token is refused, even with the session cookie.
            let forged = try await stack.http.send(
                ClientRequest(
                    method: "POST", url: stack.gateway.baseURL + "/ui/jobs/\(slowID)/cancel",
                    headers: ["Cookie": "buildchain_token=\(stack.token)", "Content-Type": "application/x-www-form-urlencoded"],
                    body: .bytes(Array("csrf=guess".utf8))))
            #expect(forged.status == 403 && forged.text.contains("CSRF_INVALID"))

            let screens = Self.repositoryRoot.appendingPathComponent(".artifacts/screenshots")
            try FileManager.default.createDirectory(at: screens, withIntermediateDirectories: true)
            let seen: [String: Any]
            do {
                seen = try browse(
                    ["--url", stack.gateway.baseURL, "--token", stack.token, "--ok", okID, "--failed", failedID, "--slow", slowID,
                     "--screens", screens.path])
            } catch {
                let slowJob = try await stack.job(slowID)
                Issue.record("the slow job as recorded: \(slowJob["state"] ?? "?") \(slowJob["error"] ?? "no error") \(BuildStack.stages(slowJob))")
                throw error
            }

            #expect(seen["redirected_to_login"] as? Bool == true)
            #expect((seen["wrong_token_error"] as? String)?.contains("not valid") == true)
            let cookie = (seen["cookie"] as? [[String: Any]])?.first
            #expect(cookie?["name"] as? String == "buildchain_token" && cookie?["httpOnly"] as? Bool == true)
            #expect(cookie?["sameSite"] as? String == "Strict")
            #expect(seen["job_rows"] as? Int == 3)

            // The bars are the recorded stages, to the millisecond.
            #expect(seen["ok_state"] as? String == "succeeded")
            let bars = try #require(seen["ok_bars"] as? [[String: Any]])
            #expect(bars.map { $0["stage"] as? String } == ["checkout", "rewrite", "build", "push"])
            for bar in bars {
                let name = bar["stage"] as? String ?? ""
                let recorded = BuildStack.stages(okJob)[name]?["duration_ms"] as? Int ?? -1
                let shown = bar["duration_ms"] as? Int ?? -2
                #expect(abs(recorded - shown) <= 1, "\(name): recorded \(recorded) ms, shown \(shown) ms")
                #expect(bar["status"] as? String == "succeeded")
            }
            #expect((seen["ok_labels"] as? [String])?.contains { $0.contains("succeeded") } == true)
            let rewrites = try #require(seen["ok_rewrites"] as? [String])
            #expect(rewrites.count == 2 && rewrites.allSatisfy { $0.contains("busybox:1.36") && $0.contains("dockerhub-proxy") })
            #expect((seen["ok_steps"] as? String)?.contains("built") == true)
            let image = (okJob["result"] as? [String: Any])?["image"] as? [String: Any]
            #expect(seen["ok_artifact"] as? String == image?["key"] as? String)
            let log = try #require(seen["ok_log"] as? [String])
            #expect(log.contains { $0.contains("build") && $0.contains("COMMIT") })
            #expect(log.last?.hasSuffix("| succeeded") == true)
            #expect((seen["ok_buttons"] as? [String])?.filter { $0 == "Cancel" || $0 == "Retry" }.isEmpty == true)

            #expect((seen["failed_error"] as? String)?.contains("REF_NOT_FOUND") == true)
            let retried = try await stack.job(failedID)
            #expect(retried["attempt"] as? Int == 2, "Retry queued the failed job again")

            #expect(seen["slow_state_after"] as? String == "cancelled")
            let cancelled = try await stack.job(slowID)
            #expect(cancelled["state"] as? String == "cancelled")
            #expect((seen["workload_bars"] as? Int ?? 0) >= 2)
        }
    }

    private func browse(_ arguments: [String]) throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.repositoryRoot.appendingPathComponent("Tests/ServicesTests/Browser/dashboard_check.py").path] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "the browser script failed:\n\(errorText)")
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}
