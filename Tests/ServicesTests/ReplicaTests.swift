import Foundation
import HTTPClient
import Postgres
import Testing

@testable import BuildService

/// Issue 16: two processes where there was one, on the real PostgreSQL (taken away through a
/// TCP relay, never stopped), real git and buildah, build-service replicas behind Debian's
/// HAProxy as `deploy/local/services.sh --replicas 2` runs them. Each test checks the records
/// (runs per stage, claims, who owned what) and the builder's side (its processes), and prints
/// its figures as `replicas.<test>.<figure> = value`.
@Suite(
    .serialized,
    .enabled(
        if: BuildStack.isAvailable && LoadBalancer.isAvailable,
        "needs the local stack's servers (deploy/local/up.sh --infra-only; source .local/env) and haproxy"))
struct ReplicaTests {
    static let runSettings = RunEndTests.services()

    /// The build runs of job `id`, oldest first: (run id, status, owner, error code).
    static func buildRuns(of id: String, in stack: BuildStack) async throws -> [(id: String, status: String, owner: String, code: String?)] {
        try await stack.pool.query(
            """
            SELECT id::text AS id, status, owner, error->>'code' AS code FROM stage_runs
            WHERE job_id = $1::uuid AND kind = 'build' ORDER BY created_at
            """, [id]
        ).map { (try $0.decode("id"), try $0.decode("status"), try $0.decode("owner"), try $0.decode("code")) }
    }

    /// The build-service replica (1-based) whose process owns run `runID`.
    static func replica(owning runID: String, in stack: BuildStack) async throws -> Int {
        let owner = try await stack.pool.query("SELECT owner FROM stage_runs WHERE id = $1::uuid", [runID])
            .first?.decode("owner", as: String?.self) ?? ""
        let index = try #require(Int(owner.dropFirst("build-".count).prefix { $0 != "#" }), "owner \(owner)")
        return index
    }

    /// The builder processes (buildah and what it started) of run `runID`, on whichever replica.
    static func builders(of runID: String, in stack: BuildStack) -> Int {
        let folders = stack.buildReplicas.indices.map { stack.buildFolder(replica: $0 + 1).appendingPathComponent("build-\(runID)").path }
        return LeftoverBuildFolders.builders(naming: folders).count
    }

    static func gateway(holding id: String, in stack: BuildStack) async throws -> String {
        try await stack.pool.query("SELECT lease_owner FROM jobs WHERE id = $1::uuid", [id]).first?.decode("lease_owner") ?? ""
    }

    /// No (job, stage) of the stack's records has two runs that succeeded, nor two that overlapped in time.
    static func duplicateStageRuns(in stack: BuildStack) async throws -> Int {
        try await stack.pool.query(
            """
            SELECT count(*)::int AS n FROM stage_runs a JOIN stage_runs b
              ON a.job_id = b.job_id AND a.kind = b.kind AND a.id < b.id
            WHERE (a.status = 'succeeded' AND b.status = 'succeeded')
               OR tstzrange(a.created_at, coalesce(a.finished_at, 'infinity')) && tstzrange(b.created_at, coalesce(b.finished_at, 'infinity'))
            """)[0].decode("n")
    }

    // MARK: cancel from anywhere

    /// Two builds running on the two-wide build-service: one cancelled through the gateway that
    /// does not hold the job, the other by a DELETE on the build-service replica that does not
    /// run it. Each builder is gone within 2 s, and each job ends with its one build run cancelled.
    @Test func aCancelOnAReplicaThatDoesNotRunTheJobStopsTheBuilderWithinTwoSeconds() async throws {
        // Two builds at once on either replica: round robin does not say which gets which.
        let services = RunEndTests.services(["build-service": ["BUILD_CONCURRENCY": "2"]])
        try await BuildStack.with(gateways: 2, buildReplicas: 2, services: services) { stack in
            let url = try FaultTests.repository(in: stack, sleeping: 60)
            let viaGateway = try await stack.submit(FaultTests.request(url, workload: FaultTests.unique("cancel-gw")))
            let viaService = try await stack.submit(FaultTests.request(url, workload: FaultTests.unique("cancel-svc")))
            var runs: [String: String] = [:]
            for id in [viaGateway, viaService] {
                let runID = try await RunEndTests.buildRunID(of: id, in: stack)
                try await RunEndTests.eventually("buildah running the build of \(id)", timeout: .seconds(60)) {
                    Self.builders(of: runID, in: stack) > 0
                }
                runs[id] = runID
            }

            // Through the gateway that does not hold the job.
            let holder = try await Self.gateway(holding: viaGateway, in: stack)
            let other = try #require(stack.gateways.first { !holder.hasPrefix(Self.instance(of: $0, in: stack)) })
            let gatewayRun = try #require(runs[viaGateway])
            let started = ContinuousClock.now
            let (status, _) = try await stack.call("POST", "/v1/jobs/\(viaGateway)/cancel", via: other)
            #expect(status == 202 || status == 200, "cancel answered \(status)")
            try await RunEndTests.eventually("the builder stopped", timeout: .seconds(10)) { Self.builders(of: gatewayRun, in: stack) == 0 }
            let gatewayStopped = ContinuousClock.now - started
            #expect(gatewayStopped < .seconds(2), "the builder stopped within 2 s of the cancel: \(gatewayStopped)")
            let cancelled = try await stack.wait(for: viaGateway, timeout: .seconds(10))
            #expect(cancelled["state"] as? String == "cancelled", "\(cancelled["error"] ?? "")")
            let gatewayRuns = try await Self.buildRuns(of: viaGateway, in: stack)
            #expect(gatewayRuns.map(\.status) == ["cancelled"], "one build run, cancelled: \(gatewayRuns)")

            // A DELETE on the build-service replica that does not run the build.
            let serviceRun = try #require(runs[viaService])
            let owner = try await Self.replica(owning: serviceRun, in: stack)
            let notOwner = stack.buildReplicas[owner == 1 ? 1 : 0]
            let deleted = ContinuousClock.now
            let response = try await stack.http.send(
                ClientRequest(
                    method: "DELETE", url: "\(notOwner.baseURL)/v1/builds/\(serviceRun)",
                    headers: ["Authorization": "Bearer \(stack.token)"], body: .none, timeout: .seconds(10)))
            #expect(response.status == 202)
            try await RunEndTests.eventually("the builder stopped", timeout: .seconds(10)) { Self.builders(of: serviceRun, in: stack) == 0 }
            let serviceStopped = ContinuousClock.now - deleted
            #expect(serviceStopped < .seconds(2), "the builder stopped within 2 s of the DELETE: \(serviceStopped)")
            #expect(stack.buildReplicas[owner - 1].logText.contains("run ended elsewhere; stopping its work"))
            let ended = try await stack.wait(for: viaService, timeout: .seconds(30))
            #expect(BuildStack.ended(ended))
            let serviceRuns = try await Self.buildRuns(of: viaService, in: stack)
            #expect(serviceRuns.first?.status == "cancelled", "\(serviceRuns)")

            try await RunEndTests.expectNoRunLeftRunning(stack)
            #expect(try await Self.duplicateStageRuns(in: stack) == 0)
            print("replicas.cancel.via_other_gateway.builder_stopped_after = \(RunEndTests.seconds(gatewayStopped))")
            print("replicas.cancel.via_other_replica.builder_stopped_after = \(RunEndTests.seconds(serviceStopped))")
        }
    }

    /// `gateway-0`'s lease owner name, as it records it (its INSTANCE_ID).
    static func instance(of gateway: ServiceProcess, in stack: BuildStack) -> String {
        "gateway-\(stack.gateways.firstIndex { $0 === gateway } ?? -1)"
    }

    // MARK: crashes

    /// kill -9 of the build-service replica running the build: the run goes stale, the gateway
    /// closes it as RUN_ABANDONED and the stage is retried, through HAProxy, on the other replica.
    @Test func killingTheBuildReplicaRunningTheBuildRetriesItOnTheOther() async throws {
        try await BuildStack.with(
            buildReplicas: 2, environment: ["RUN_STALE_AFTER": "5s"], services: Self.runSettings
        ) { stack in
            let url = try FaultTests.repository(in: stack, sleeping: 6)
            let id = try await stack.submit(FaultTests.request(url, workload: FaultTests.unique("kill-build")))
            let runID = try await RunEndTests.buildRunID(of: id, in: stack)
            try await RunEndTests.eventually("buildah running the build", timeout: .seconds(60)) { Self.builders(of: runID, in: stack) > 0 }
            let owner = try await Self.replica(owning: runID, in: stack)
            stack.buildReplicas[owner - 1].kill()
            let killed = ContinuousClock.now

            let job = try await stack.wait(for: id, timeout: .seconds(120))
            let took = ContinuousClock.now - killed
            #expect(job["state"] as? String == "succeeded", "\(job["error"] ?? "")")
            let runs = try await Self.buildRuns(of: id, in: stack)
            #expect(runs.count == 2, "the build ran once more: \(runs)")
            #expect(runs.first?.status == "failed" && runs.first?.code == "RUN_ABANDONED", "\(runs)")
            #expect(runs.last?.status == "succeeded" && runs.last?.owner.hasPrefix("build-\(owner == 1 ? 2 : 1)#") == true, "\(runs)")
            try await RunEndTests.eventually("no builder of the dead replica's run left", timeout: .seconds(15)) {
                Self.builders(of: runID, in: stack) == 0
            }
            try await RunEndTests.expectNoRunLeftRunning(stack)
            #expect(try await Self.duplicateStageRuns(in: stack) == 0)
            print("replicas.kill_build_replica.job_done_after_kill = \(RunEndTests.seconds(took))")
        }
    }

    // MARK: the database goes away from the gateway

    /// The gateway loses PostgreSQL for twice its lease (3 s) while the build runs; the build
    /// goes on in build-service. When the database is back the same gateway claims the job
    /// again under a new lease token, adopts the build run instead of starting another, and
    /// the job succeeds with every stage and the job itself ended once.
    @Test func theGatewayClaimingItsJobAgainAfterALostLeaseAdoptsTheBuildOnce() async throws {
        let gate = try TCPGate(target: try TestEnvironment.requireDatabaseURL())
        defer { gate.stop() }
        try await BuildStack.with(services: Self.runSettings, gatedDatabase: (gate, ["gateway"])) { stack in
            let url = try FaultTests.repository(in: stack, sleeping: 10)
            let id = try await stack.submit(FaultTests.request(url, workload: FaultTests.unique("lease-again")))
            let runID = try await RunEndTests.buildRunID(of: id, in: stack)
            gate.shut()
            try await Task.sleep(for: .seconds(6))
            gate.open()

            let job = try await stack.wait(for: id, timeout: .seconds(120))
            #expect(job["state"] as? String == "succeeded", "\(job["error"] ?? "")")
            let runs = try await Self.buildRuns(of: id, in: stack)
            #expect(runs.map(\.id) == [runID] && runs.first?.status == "succeeded", "one build run, adopted: \(runs)")
            #expect(BuildStack.stages(job)["build"]?["attempt"] as? Int == 1)
            let events = try await stack.pool.query(
                "SELECT stage, kind, message FROM job_events WHERE job_id = $1::uuid ORDER BY seq", [id]
            ).map { (try $0.decode("stage", as: String?.self), try $0.decode("kind", as: String.self), try $0.decode("message", as: String.self)) }
            #expect(events.contains { $0.2 == "taken over by gateway-0 after the lease of gateway-0 expired" }, "claimed again")
            #expect(events.contains { $0.2 == "adopting run \(runID) left by the previous holder" })
            let ends = events.filter { $0.1 == "state" && $0.2 == "succeeded" }
            #expect(ends.count == 4, "three stages and the job, each ended once: \(ends)")
            let builds = try await stack.pool.query(
                "SELECT count(*)::int AS n FROM run_events WHERE run_id = $1::uuid AND kind = 'state' AND message = 'running'", [runID]
            )[0].decode("n", as: Int.self)
            #expect(builds == 1, "the builder was started once")
            try await RunEndTests.expectNoRunLeftRunning(stack)
            #expect(try await Self.duplicateStageRuns(in: stack) == 0)
        }
    }

    // MARK: clocks

    /// One gateway's clock five minutes ahead and the other's five minutes behind (Debian's
    /// libfaketime): every job runs once, nothing alive is declared dead, as every lease and
    /// staleness decision is made by the database's clock.
    ///
    /// The gateway behind serves the API only (submits and reads go through it): under
    /// libfaketime with a clock set back, Swift's `Task.sleep` never returns (measured with a
    /// bare executable: it returns with +5m, hangs with -5m or `@<earlier time>`, with or without
    /// FAKETIME_DONT_FAKE_MONOTONIC), so its job workers could never poll. The gateway ahead
    /// runs every job, alongside stage services on the true clock.
    @Test func gatewaysWhoseClocksAreFiveMinutesOffRunEachJobOnce() async throws {
        let library = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
        try #require(FileManager.default.fileExists(atPath: library), "faketime (Debian) is installed")
        try await BuildStack.with(gateways: 0, services: Self.runSettings) { stack in
            let ahead = try await stack.startGateway(instance: "gateway-ahead", extra: Self.faketime(library, "+5m"))
            let behind = try await stack.startGateway(
                instance: "gateway-behind", extra: Self.faketime(library, "-5m").merging(["GATEWAY_WORKERS": "0"]) { $1 })
            for (gateway, offset) in [(ahead, 300.0), (behind, -300.0)] {
                let skew = try #require(Self.clockSkew(of: gateway), "the gateway logs its time")
                #expect(abs(skew - offset) < 60, "\(gateway.name) runs \(skew) s off")
            }
            let url = try FaultTests.repository(in: stack, sleeping: 4)
            var ids: [String] = []
            for index in 0..<4 {
                ids.append(try await stack.submit(FaultTests.request(url, workload: FaultTests.unique("skew\(index)"))))
            }
            var owners: Set<String> = []
            for id in ids {
                let job = try await stack.wait(for: id, timeout: .seconds(180))
                #expect(job["state"] as? String == "succeeded", "\(id): \(job["error"] ?? "")")
                let claims = try await stack.pool.query(
                    "SELECT message FROM job_events WHERE job_id = $1::uuid AND (message LIKE 'claimed by %' OR message LIKE 'taken over by %')",
                    [id]
                ).map { try $0.decode("message", as: String.self) }
                #expect(claims.count == 1 && claims.first?.hasPrefix("claimed by ") == true, "\(id): \(claims)")
                owners.formUnion(claims.map { String($0.dropFirst("claimed by ".count)) })
            }
            #expect(owners == ["gateway-ahead"], "\(owners)")
            let abandoned = try await stack.pool.query("SELECT 1 FROM stage_runs WHERE error->>'code' = 'RUN_ABANDONED'")
            #expect(abandoned.isEmpty, "no live run was declared dead")
            let perStage = try await stack.pool.query(
                "SELECT 1 FROM stage_runs GROUP BY job_id, kind HAVING count(*) > 1")
            #expect(perStage.isEmpty, "every stage ran once")
            #expect(try await Self.duplicateStageRuns(in: stack) == 0)
        }
    }

    /// libfaketime's settings for a wall clock `offset` off. The monotonic clock keeps its pace
    /// (FAKETIME_DONT_FAKE_MONOTONIC): a machine whose clock is set wrong still counts seconds
    /// right, and the process's timers run on it.
    static func faketime(_ library: String, _ offset: String) -> [String: String] {
        ["LD_PRELOAD": library, "FAKETIME": offset, "FAKETIME_DONT_FAKE_MONOTONIC": "1"]
    }

    /// Seconds between the time in the gateway's first log line and this process's clock.
    static func clockSkew(of gateway: ServiceProcess) -> Double? {
        guard let line = gateway.logText.split(separator: "\n").first,
            let record = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let text = record["ts"] as? String,
            let logged = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true))
        else { return nil }
        return logged.timeIntervalSinceNow
    }
}
