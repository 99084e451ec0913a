import Foundation
import HTTPClient
import Postgres
import Records
import TestSupport
import Testing

@testable import BuildService

/// Every run ends, and its end is recorded (issue 22): real processes, the real PostgreSQL
/// (taken away from the services through a TCP relay, never stopped), real git and buildah.
/// Each test ends by checking that no stage run is left queued or running, and prints its
/// time to recovery as `runend.<test>.<figure> = seconds`.
@Suite(
    .serialized,
    .enabled(if: BuildStack.isAvailable, "needs the local stack's servers (deploy/local/up.sh --infra-only; source .local/env)"))
struct RunEndTests {
    /// Short heartbeats, so a run lets go and is closed within seconds.
    static let runSettings = ["RUN_HEARTBEAT_INTERVAL": "1s", "RUN_STALE_AFTER": "5s", "RUN_END_WRITE_LIMIT": "30s"]

    static func services(_ extra: [String: [String: String]] = [:]) -> [String: [String: String]] {
        var settings: [String: [String: String]] = [:]
        for name in ["checkout-service", "build-service", "artifact-service"] {
            settings[name] = runSettings.merging(extra[name] ?? [:]) { $1 }
        }
        return settings
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.1f", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }

    /// No stage run of the stack's database is queued or running: every run ended and its end is recorded.
    static func expectNoRunLeftRunning(_ stack: BuildStack) async throws {
        let left = try await stack.pool.query(
            "SELECT id::text AS id, kind, status, owner FROM stage_runs WHERE status IN ('queued', 'running')")
        let described = try left.map { "\(try $0.decode("kind", as: String.self)) \(try $0.decode("id", as: String.self))" }
        #expect(left.isEmpty, "runs left running: \(described)")
    }

    static func buildRunID(of id: String, in stack: BuildStack) async throws -> String {
        let running = try await stack.wait(for: id, timeout: .seconds(120)) {
            BuildStack.stages($0)["build"]?["run_id"] is String || BuildStack.ended($0)
        }
        return try #require(BuildStack.stages(running)["build"]?["run_id"] as? String, "the build started: \(running)")
    }

    /// Waits until `condition` holds, checking every 100 ms; fails after `timeout`.
    static func eventually(_ what: String, timeout: Duration, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("timed out waiting for \(what)")
        throw CancellationError()
    }

    // MARK: text PostgreSQL takes

    /// git's stderr carries a NUL (`…corruption on the remote side.\0`), which used to make the
    /// run's failure unrecordable (22P05) and leave it running for ever.
    @Test func aRepositoryMissingAnObjectFailsTheCheckoutWithGitsMessage() async throws {
        try await BuildStack.with(environment: ["STAGE_RETRIES": "0"], services: Self.services()) { stack in
            let url = try stack.repository(
                "torn", files: ["Dockerfile": "FROM busybox:1.36\n", "data.txt": "the blob that goes missing\n"])
            let directory = String(url.dropFirst("file://".count))
            let removed = try await WaitedShell.run(
                "cd \(directory) && rm .git/objects/$(git rev-parse HEAD:data.txt | sed 's|^..|&/|')")
            try #require(removed == 0, "a loose blob object was deleted")

            let started = ContinuousClock.now
            let id = try await stack.submit(FaultTests.request(url, workload: FaultTests.unique("torn")))
            let job = try await stack.wait(for: id, timeout: .seconds(60))
            let took = ContinuousClock.now - started
            #expect(job["state"] as? String == "failed")
            let error = try #require(job["error"] as? [String: Any])
            let message = error["message"] as? String ?? ""
            #expect(error["code"] as? String == "GIT_FAILED" && error["stage"] as? String == "checkout", "\(error)")
            #expect(message.contains("possible repository corruption on the remote side.\u{FFFD}"), "\(message)")

            let runs = try await stack.pool.query(
                "SELECT status, error->>'code' AS code, error->>'message' AS message FROM stage_runs WHERE kind = 'checkout'")
            #expect(!runs.isEmpty)
            for run in runs {
                #expect(try run.decode("status", as: String.self) == "failed")
                #expect(try run.decode("code", as: String.self) == "GIT_FAILED")
                #expect(try run.decode("message", as: String.self).contains("\u{FFFD}"))
            }
            try await Self.expectNoRunLeftRunning(stack)
            print("runend.missing_object.job_failed_after = \(Self.seconds(took))")
        }
    }

    @Test func aBuilderPrintingNULAndInvalidUTF8SucceedsWithItsLogKept() async throws {
        try await BuildStack.with(services: Self.services()) { stack in
            let url = try stack.repository(
                "noisy", files: ["Dockerfile": "FROM busybox:1.36\nRUN printf 'before\\000after \\377\\376 end\\n'\n"])
            let id = try await stack.submit(FaultTests.request(url, workload: FaultTests.unique("noisy")))
            let job = try await stack.wait(for: id, timeout: .seconds(120))
            #expect(job["state"] as? String == "succeeded", "\(job["error"] ?? "")")

            let lines = try await stack.pool.query(
                """
                SELECT e.message FROM run_events e JOIN stage_runs r ON r.id = e.run_id
                WHERE r.kind = 'build' AND e.message LIKE '%before%'
                """
            ).map { try $0.decode("message", as: String.self) }
            #expect(
                lines.contains { $0.contains("before\u{FFFD}after") && $0.contains("\u{FFFD}\u{FFFD} end") },
                "the builder's line, with replacement characters: \(lines)")
            let jobLines = try await stack.pool.query(
                "SELECT message FROM job_events WHERE job_id = $1::uuid AND message LIKE '%before%'", [id])
            #expect(!jobLines.isEmpty, "the gateway copied the line into the job's log")
            try await Self.expectNoRunLeftRunning(stack)
        }
    }

    // MARK: runs that hang

    @Test func aGitServerThatStopsMidPackTimesTheRunOut() async throws {
        try await BuildStack.with(
            environment: ["STAGE_RETRIES": "0"],
            services: Self.services(["checkout-service": ["CHECKOUT_GIT_TIMEOUT": "4s"]])
        ) { stack in
            let noise = (0..<40_000).map { _ in String(UInt8.random(in: 0...255), radix: 16) }.joined()
            _ = try stack.repository("stalled", files: ["Dockerfile": "FROM busybox:1.36\n", "noise.txt": noise])
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("Faults/stalling_git_server.py")
            let server = try ScriptServer(script: script, arguments: [stack.work.path])
            defer { server.stop() }

            let started = ContinuousClock.now
            let url = "git://127.0.0.1:\(server.port)/stalled"
            let id = try await stack.submit(FaultTests.request(url, workload: FaultTests.unique("stalled")))
            let job = try await stack.wait(for: id, timeout: .seconds(60))
            let took = ContinuousClock.now - started
            #expect(job["state"] as? String == "failed")
            let error = try #require(job["error"] as? [String: Any])
            #expect(error["code"] as? String == "TIMEOUT" && error["stage"] as? String == "checkout", "\(error)")
            #expect(took < .seconds(30), "ended by the 4 s git timeout, not later")
            #expect(Self.processes(mentioning: "127.0.0.1:\(server.port)").isEmpty, "no git process is left")
            try await Self.expectNoRunLeftRunning(stack)
            print("runend.stalled_git.job_failed_after = \(Self.seconds(took))")
        }
    }

    /// Processes whose command line contains `text`.
    static func processes(mentioning text: String) -> [pid_t] {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid_t($0) }
        return pids.filter { pid in
            guard let raw = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: raw.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains(text)
        }
    }

    // MARK: the database goes away

    /// The build ends while build-service cannot reach PostgreSQL: its end is retried and
    /// written when the database is back; the stage is not run again.
    @Test func theEndOfARunIsWrittenWhenTheDatabaseIsBack() async throws {
        let gate = try TCPGate(target: try TestEnvironment.requireDatabaseURL())
        defer { gate.stop() }
        try await BuildStack.with(
            environment: ["RUN_STALE_AFTER": "60s"], services: Self.services(), gatedDatabase: (gate, ["build-service"])
        ) { stack in
            let url = try FaultTests.repository(in: stack, sleeping: 3)
            let id = try await stack.submit(FaultTests.request(url, workload: FaultTests.unique("endwrite")))
            let runID = try await Self.buildRunID(of: id, in: stack)
            gate.shut()
            let buildService = stack.service("build-service")
            try await Self.eventually("the build's end failing to be written", timeout: .seconds(90)) {
                buildService.logText.contains("recording the end of a run failed; retrying")
            }
            try await Task.sleep(for: .seconds(2))
            gate.open()
            let reopened = ContinuousClock.now
            try await Self.eventually("the run's end written", timeout: .seconds(30)) {
                try await stack.pool.query("SELECT 1 FROM stage_runs WHERE id = $1::uuid AND status = 'succeeded'", [runID])
                    .count == 1
            }
            let written = ContinuousClock.now - reopened
            #expect(written < .seconds(3), "written within a retry interval (1 s) of the database's return")

            let job = try await stack.wait(for: id, timeout: .seconds(60))
            #expect(job["state"] as? String == "succeeded", "\(job["error"] ?? "")")
            #expect(BuildStack.stages(job)["build"]?["attempt"] as? Int == 1, "the build ran once")
            try await Self.expectNoRunLeftRunning(stack)
            print("runend.end_write.written_after_reopen = \(Self.seconds(written))")
            print("runend.end_write.job_done_after_reopen = \(Self.seconds(ContinuousClock.now - reopened))")
        }
    }

    /// The outage outlasts RUN_END_WRITE_LIMIT: the process lets the run go (its heartbeat
    /// stops), the run is closed as RUN_ABANDONED by the database's clock, and the stage is
    /// run again.
    @Test func aRunWhoseEndCannotBeWrittenIsLetGoAndClosed() async throws {
        let gate = try TCPGate(target: try TestEnvironment.requireDatabaseURL())
        defer { gate.stop() }
        // The gateway waits long (it would close the run itself during the outage): here the
        // service's own sweep closes it, after the database is back.
        try await BuildStack.with(
            environment: ["RUN_STALE_AFTER": "60s"],
            services: Self.services(["build-service": ["RUN_END_WRITE_LIMIT": "2s"]]),
            gatedDatabase: (gate, ["build-service"])
        ) { stack in
            let url = try FaultTests.repository(in: stack, sleeping: 3)
            let id = try await stack.submit(FaultTests.request(url, workload: FaultTests.unique("letgo")))
            let runID = try await Self.buildRunID(of: id, in: stack)
            gate.shut()
            let buildService = stack.service("build-service")
            try await Self.eventually("the run let go", timeout: .seconds(90)) {
                buildService.logText.contains("could not record the end of a run; letting it go")
            }
            gate.open()
            let reopened = ContinuousClock.now
            try await Self.eventually("the run closed as abandoned", timeout: .seconds(20)) {
                try await stack.pool.query(
                    "SELECT 1 FROM stage_runs WHERE id = $1::uuid AND status = 'failed' AND error->>'code' = 'RUN_ABANDONED'",
                    [runID]
                ).count == 1
            }
            let closed = ContinuousClock.now - reopened
            // Stale 5 s after its last heartbeat, which was before the outage: closed at the next sweep.
            #expect(closed < .seconds(8), "closed within a sweep of the database's return")

            let job = try await stack.wait(for: id, timeout: .seconds(120))
            #expect(job["state"] as? String == "succeeded", "\(job["error"] ?? "")")
            let build = try #require(BuildStack.stages(job)["build"])
            #expect(build["attempt"] as? Int == 2 && build["run_id"] as? String != runID, "the stage ran again")
            try await Self.expectNoRunLeftRunning(stack)
            print("runend.let_go.closed_after_reopen = \(Self.seconds(closed))")
            print("runend.let_go.job_done_after_reopen = \(Self.seconds(ContinuousClock.now - reopened))")
        }
    }

    /// Every process loses PostgreSQL for longer than JOB_LEASE (3 s) during a build: the job
    /// ends within 30 s plus the lease of the database's return, and no stage succeeded twice.
    @Test func theDatabaseGoneLongerThanTheLeaseDuringABuild() async throws {
        let gate = try TCPGate(target: try TestEnvironment.requireDatabaseURL())
        defer { gate.stop() }
        let everyone: Set<String> = ["gateway", "checkout-service", "rewrite-service", "build-service", "artifact-service"]
        try await BuildStack.with(services: Self.services(), gatedDatabase: (gate, everyone)) { stack in
            let url = try FaultTests.repository(in: stack, sleeping: 3)
            let id = try await stack.submit(FaultTests.request(url, workload: FaultTests.unique("lease")))
            let runID = try await Self.buildRunID(of: id, in: stack)
            gate.shut()
            try await Task.sleep(for: .seconds(8))
            gate.open()
            let reopened = ContinuousClock.now
            try await Self.eventually("the job ended", timeout: .seconds(33)) {
                try await stack.pool.query(
                    "SELECT 1 FROM jobs WHERE id = $1::uuid AND state IN ('succeeded', 'failed', 'cancelled')", [id]
                ).count == 1
            }
            let ended = ContinuousClock.now - reopened
            let job = try await stack.job(id)
            #expect(job["state"] as? String == "succeeded", "\(job["error"] ?? "")")
            let doubles = try await stack.pool.query(
                "SELECT kind FROM stage_runs WHERE status = 'succeeded' GROUP BY job_id, kind HAVING count(*) > 1")
            #expect(doubles.isEmpty, "no stage succeeded twice")
            let first = try await stack.pool.query("SELECT status FROM stage_runs WHERE id = $1::uuid", [runID])
            #expect(try first.first?.decode("status", as: String.self) != "running")
            try await Self.expectNoRunLeftRunning(stack)
            print("runend.lease_outage.job_done_after_reopen = \(Self.seconds(ended))")
        }
    }

    // MARK: cancel

    /// The process running the build died: DELETE on the restarted service records the cancel.
    @Test func cancellingARunWhoseProcessIsGoneRecordsIt() async throws {
        try await BuildStack.with(environment: ["RUN_STALE_AFTER": "60s"], services: Self.services()) { stack in
            let url = try FaultTests.repository(in: stack, sleeping: 30)
            let id = try await stack.submit(FaultTests.request(url, workload: FaultTests.unique("cancel-gone")))
            let runID = try await Self.buildRunID(of: id, in: stack)
            let buildService = stack.service("build-service")
            let port = buildService.port
            buildService.kill()
            try await stack.start("build-service", port: port)

            let response = try await stack.http.send(
                ClientRequest(
                    method: "DELETE", url: "\(stack.service("build-service").baseURL)/v1/builds/\(runID)",
                    headers: ["Authorization": "Bearer \(stack.token)"], body: .none, timeout: .seconds(30)))
            #expect(response.status == 202)
            let body = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
            #expect(body["status"] as? String == "cancelled", "\(body)")
            let row = try await stack.pool.query("SELECT status FROM stage_runs WHERE id = $1::uuid", [runID])
            #expect(try row.first?.decode("status", as: String.self) == "cancelled")

            let job = try await stack.wait(for: id, timeout: .seconds(60))
            #expect(BuildStack.ended(job))
            try await Self.expectNoRunLeftRunning(stack)
        }
    }

    /// A cancel recorded by another replica (the status and its state event, as its DELETE writes):
    /// the process running the build learns it at its next heartbeat and stops the builder.
    @Test func aCancelRecordedElsewhereStopsTheBuilderWhereItRuns() async throws {
        try await BuildStack.with(environment: ["RUN_STALE_AFTER": "60s"], services: Self.services()) { stack in
            let url = try FaultTests.repository(in: stack, sleeping: 30)
            let id = try await stack.submit(FaultTests.request(url, workload: FaultTests.unique("cancel-elsewhere")))
            let runID = try await Self.buildRunID(of: id, in: stack)
            let folder = stack.work.appendingPathComponent("builds/build-\(runID)").path
            try await Self.eventually("buildah running the build", timeout: .seconds(60)) {
                !LeftoverBuildFolders.builders(naming: [folder]).isEmpty
            }
            // What another replica's DELETE writes: the status and its state event (with NOTIFY).
            _ = try await RunStore(pool: stack.pool).markCancelled(try #require(UUID(uuidString: runID)))
            let cancelled = ContinuousClock.now
            try await Self.eventually("the builder stopped", timeout: .seconds(10)) {
                LeftoverBuildFolders.builders(naming: [folder]).isEmpty
            }
            let stopped = ContinuousClock.now - cancelled
            #expect(stack.service("build-service").logText.contains("run ended elsewhere; stopping its work"))
            #expect(stopped < .seconds(5), "stopped within a heartbeat (1 s) and the builder's grace")

            let job = try await stack.wait(for: id, timeout: .seconds(60))
            #expect(BuildStack.ended(job))
            try await Self.expectNoRunLeftRunning(stack)
            print("runend.cancel_elsewhere.builder_stopped_after = \(Self.seconds(stopped))")
        }
    }
}
