import Digests
import Foundation
import HTTPClient
import Logging
import Postgres
import S3
import Testing

/// Builds through the gateway over the real chain (see BuildStack). Serialized: each test
/// runs real buildah builds on a small machine.
@Suite(
    .serialized,
    .enabled(if: BuildStack.isAvailable, "needs the local stack's servers (deploy/local/up.sh --infra-only; source .local/env)"))
struct GatewayEndToEndTests {
    /// A multi-stage Dockerfile whose bases are Docker Hub names.
    static func dockerfile(run: String = "tr a-z A-Z < /src/greeting.txt > /src/GREETING.txt") -> String {
        """
        FROM busybox:1.36 AS build
        COPY greeting.txt /src/greeting.txt
        RUN \(run)

        FROM docker.io/library/busybox:1.36
        COPY --from=build /src/GREETING.txt /GREETING.txt
        CMD ["cat", "/GREETING.txt"]

        """
    }

    private func withStack(
        gateways: Int = 1, environment: [String: String] = [:], _ body: (BuildStack) async throws -> Void
    ) async throws {
        try await BuildStack.with(gateways: gateways, environment: environment, body)
    }

    private func request(_ url: String, workload: String = "demo", push: String? = nil, fresh: Bool = false) -> [String: Any] {
        var body: [String: Any] = [
            "workload": workload, "service": "hello", "repository": ["url": url, "ref": "main"], "fresh": fresh,
        ]
        if let push { body["push"] = ["destination": push] }
        return body
    }

    @Test func aRepositoryBecomesAStoredAndPushedImageWithEveryStageRecorded() async throws {
        try await withStack { stack in
            let url = try stack.repository("app", files: ["Dockerfile": Self.dockerfile(), "greeting.txt": "hello\n"])
            let destination = "\(stack.registry)/e2e/hello-\(UUID().uuidString.prefix(8).lowercased()):1"
            let id = try await stack.submit(request(url, push: destination))
            let job = try await stack.wait(for: id)
            #expect(job["state"] as? String == "succeeded", "job: \(job)")

            let stages = BuildStack.stages(job)
            #expect((job["stages"] as? [[String: Any]])?.map { $0["name"] as? String } == ["checkout", "rewrite", "build", "push"])
            for (name, stage) in stages {
                #expect(stage["status"] as? String == "succeeded", "\(name)")
                #expect(stage["attempt"] as? Int == 1, "\(name)")
                #expect(stage["started_at"] is String && stage["finished_at"] is String, "\(name) timings")
                #expect((stage["duration_ms"] as? Int).map { $0 >= 0 } == true, "\(name) duration")
            }
            #expect(stages["rewrite"]?["run_id"] == nil || stages["rewrite"]?["run_id"] is NSNull)

            // The base images went through the proxy path.
            let rewrite = try #require(stages["rewrite"]?["result"] as? [String: Any])
            let changes = try #require(rewrite["changes"] as? [[String: Any]])
            #expect(Set(changes.compactMap { $0["to"] as? String }) == ["\(stack.registry)/dockerhub-proxy/library/busybox:1.36"])
            #expect(changes.count == 2)

            // The tarball is in S3, and its bytes are what the job says.
            let result = try #require(job["result"] as? [String: Any])
            let image = try #require(result["image"] as? [String: Any])
            let key = try #require(image["key"] as? String)
            let (sha256, size) = try await stack.storedDigest(of: key)
            #expect(sha256 == image["sha256"] as? String)
            #expect(size == image["size"] as? Int)

            // Pushed: the registry has it, and its base layer is the proxied base image's.
            let manifestDigest = try #require(result["manifest_digest"] as? String)
            let pushed = try skopeoInspect("docker://\(destination)")
            #expect(pushed["Digest"] as? String == manifestDigest)
            // (Compared by diff id: the tarball carries the layers uncompressed, the registry's base gzipped.)
            let pushedLayers = try diffIDs("docker://\(destination)")
            let baseLayers = try diffIDs("docker://\(stack.registry)/dockerhub-proxy/library/busybox:1.36")
            #expect(pushedLayers.count == baseLayers.count + 1)
            #expect(Array(pushedLayers.prefix(baseLayers.count)) == baseLayers)

            // The job's log holds every stage's lines and ends with its state.
            let events = try await eventLines(stack, id)
            #expect(Set(events.compactMap { $0["stage"] as? String }) == ["checkout", "rewrite", "build", "push"])
            #expect(events.contains { ($0["message"] as? String)?.contains("COMMIT") == true })
            #expect(events.last?["message"] as? String == "succeeded" && events.last?["stage"] == nil)
        }
    }

    @Test func aSecondJobWithTheSameInputsReusesTheImageUnlessAskedForAFreshBuild() async throws {
        try await withStack { stack in
            let url = try stack.repository("app", files: ["Dockerfile": Self.dockerfile(), "greeting.txt": "reuse\n"])
            let first = try await stack.wait(for: try await stack.submit(request(url)))
            #expect(first["state"] as? String == "succeeded")
            let firstImage = (first["result"] as? [String: Any])?["image"] as? [String: Any]

            let second = try await stack.wait(for: try await stack.submit(request(url, workload: "other")))
            #expect(second["state"] as? String == "succeeded")
            #expect(second["reused_from"] as? String == first["id"] as? String)
            let build = try #require(BuildStack.stages(second)["build"])
            #expect(build["run_id"] is NSNull || build["run_id"] == nil, "no build ran")
            #expect((build["result"] as? [String: Any])?["reused_from"] as? String == first["id"] as? String)
            #expect(((second["result"] as? [String: Any])?["image"] as? [String: Any])?["key"] as? String == firstImage?["key"] as? String)

            let fresh = try await stack.wait(for: try await stack.submit(request(url, fresh: true)))
            #expect(fresh["state"] as? String == "succeeded")
            #expect(fresh["reused_from"] is NSNull || fresh["reused_from"] == nil)
            #expect(BuildStack.stages(fresh)["build"]?["run_id"] is String, "a fresh build ran")
        }
    }

    @Test func aRealFailureFailsTheJobAtOnceWithTheStagesCode() async throws {
        try await withStack { stack in
            let url = try stack.repository("app", files: ["Dockerfile": Self.dockerfile(run: "exit 3"), "greeting.txt": "x\n"])
            var badRef = request(url)
            badRef["repository"] = ["url": url, "ref": "no-such-branch"]
            let refJob = try await stack.wait(for: try await stack.submit(badRef))
            #expect(refJob["state"] as? String == "failed")
            let refError = try #require(refJob["error"] as? [String: Any])
            #expect(refError["code"] as? String == "REF_NOT_FOUND" && refError["stage"] as? String == "checkout")
            #expect(refError["retryable"] as? Bool == false)
            #expect(BuildStack.stages(refJob)["checkout"]?["attempt"] as? Int == 1, "not retried")
            #expect(BuildStack.stages(refJob)["rewrite"]?["status"] as? String == "pending")

            let stepJob = try await stack.wait(for: try await stack.submit(request(url)))
            #expect(stepJob["state"] as? String == "failed")
            let stepError = try #require(stepJob["error"] as? [String: Any])
            #expect(stepError["code"] as? String == "BUILD_STEP_FAILED" && stepError["stage"] as? String == "build")
            #expect(BuildStack.stages(stepJob)["build"]?["attempt"] as? Int == 1, "not retried")
        }
    }

    @Test func cancellingDuringTheBuildStopsTheBuilder() async throws {
        try await withStack { stack in
            // A sleep no other test runs: the process table is the whole machine's, and a slow
            // job of an earlier test (sleep 60) may still be ending.
            let sleep = "sleep \(Int.random(in: 6_000...6_999))"
            let url = try stack.repository("slow", files: ["Dockerfile": Self.dockerfile(run: "\(sleep); cp /src/greeting.txt /src/GREETING.txt"), "greeting.txt": "slow \(UUID())\n"])
            let id = try await stack.submit(request(url))
            let building = try await stack.wait(for: id, timeout: .seconds(120)) { job in
                BuildStack.ended(job) || BuildStack.stages(job)["build"]?["run_id"] is String
            }
            let runID = try #require(BuildStack.stages(building)["build"]?["run_id"] as? String)
            try await waitForBuildRun(stack, runID) { $0 == "running" }
            try await Task.sleep(for: .seconds(2))

            let started = ContinuousClock.now
            let (status, _) = try await stack.call("POST", "/v1/jobs/\(id)/cancel")
            #expect(status == 202)
            let job = try await stack.wait(for: id, timeout: .seconds(30))
            #expect(ContinuousClock.now - started < .seconds(20), "the RUN step of over 6,000 s was stopped")
            #expect(job["state"] as? String == "cancelled")
            #expect((job["error"] as? [String: Any])?["code"] as? String == "CANCELLED")
            #expect(BuildStack.stages(job)["build"]?["status"] as? String == "cancelled")
            try await waitForBuildRun(stack, runID) { $0 == "cancelled" }
            // Within seconds: the run is recorded cancelled as the builder is signalled.
            try await RunEndTests.eventually("the builder's RUN step gone", timeout: .seconds(5)) { !processTableContains(sleep) }

            let (again, problem) = try await stack.call("POST", "/v1/jobs/\(id)/cancel")
            #expect(again == 409 && problem["code"] as? String == "JOB_ENDED")
        }
    }

    @Test func aRetryAfterATransientFailureResumesFromTheFailedStage() async throws {
        try await withStack { stack in
            let url = try stack.repository("app", files: ["Dockerfile": Self.dockerfile(), "greeting.txt": "retry\n"])
            let buildPort = stack.service("build-service").port
            _ = await stack.service("build-service").terminate()

            let id = try await stack.submit(request(url, fresh: true))
            let failed = try await stack.wait(for: id)
            #expect(failed["state"] as? String == "failed")
            let error = try #require(failed["error"] as? [String: Any])
            #expect(error["code"] as? String == "SERVICE_UNAVAILABLE" && error["stage"] as? String == "build")
            #expect(error["retryable"] as? Bool == true)
            let before = BuildStack.stages(failed)
            #expect(before["build"]?["attempt"] as? Int == 3, "the first try and STAGE_RETRIES=2 retries")
            let checkoutRun = try #require(before["checkout"]?["run_id"] as? String)

            try await stack.start("build-service", port: buildPort)
            let (status, retried) = try await stack.call("POST", "/v1/jobs/\(id)/retry")
            #expect(status == 202 && retried["state"] as? String == "queued" && retried["attempt"] as? Int == 2)
            let job = try await stack.wait(for: id)
            #expect(job["state"] as? String == "succeeded", "\(job)")
            let after = BuildStack.stages(job)
            #expect(after["checkout"]?["run_id"] as? String == checkoutRun, "checkout was not run again")
            #expect(after["checkout"]?["attempt"] as? Int == 1 && after["rewrite"]?["attempt"] as? Int == 1)
            #expect(after["build"]?["attempt"] as? Int == 4)

            let (again, problem) = try await stack.call("POST", "/v1/jobs/\(id)/retry")
            #expect(again == 409 && problem["code"] as? String == "JOB_NOT_RETRYABLE")
        }
    }

    @Test func aGatewayKilledDuringTheBuildIsResumedWithoutASecondBuild() async throws {
        try await withStack { stack in
            let url = try stack.repository("app", files: ["Dockerfile": Self.dockerfile(run: "sleep 6; tr a-z A-Z < /src/greeting.txt > /src/GREETING.txt"), "greeting.txt": "crash \(UUID())\n"])
            let id = try await stack.submit(request(url, fresh: true))
            let building = try await stack.wait(for: id, timeout: .seconds(120)) { job in
                BuildStack.ended(job) || BuildStack.stages(job)["build"]?["run_id"] is String
            }
            let runID = try #require(BuildStack.stages(building)["build"]?["run_id"] as? String)
            stack.gateway.kill()

            let survivor = try await stack.startGateway(instance: "gateway-after-crash")
            let job = try await stack.wait(for: id) { BuildStack.ended($0) }
            _ = survivor
            #expect(job["state"] as? String == "succeeded", "\(job)")
            let build = try #require(BuildStack.stages(job)["build"])
            #expect(build["run_id"] as? String == runID, "the running build was adopted, not started again")
            #expect(build["attempt"] as? Int == 1)

            let buildRuns = try await stack.pool.query(
                "SELECT status FROM stage_runs WHERE job_id = $1::uuid AND kind = 'build'", [id])
            #expect(try buildRuns.map { try $0.decode("status", as: String.self) } == ["succeeded"])
            let messages = try await eventLines(stack, id).compactMap { $0["message"] as? String }
            #expect(messages.contains("taken over by gateway-after-crash after the lease of gateway-0 expired"))
            #expect(messages.filter { $0 == "succeeded" }.count == 4, "three stages and the job, each once")
            let unfinished = try await stack.pool.query("SELECT id FROM jobs WHERE state IN ('queued', 'running')")
            #expect(unfinished.isEmpty)
        }
    }

    @Test func twoGatewaysOnOneDatabaseRunTwentyJobsOnceEach() async throws {
        try await withStack(gateways: 2) { stack in
            let url = try stack.repository("app", files: ["Dockerfile": Self.dockerfile(), "greeting.txt": "many\n"])
            var ids: [String] = []
            for index in 0..<20 { ids.append(try await stack.submit(request(url, workload: "w\(index)"))) }
            var owners: Set<String> = []
            for id in ids {
                let job = try await stack.wait(for: id, timeout: .seconds(300))
                #expect(job["state"] as? String == "succeeded", "\(id): \(job["error"] ?? "")")
                for (name, stage) in BuildStack.stages(job) {
                    #expect(stage["attempt"] as? Int == 1, "\(id) \(name)")
                }
                let claims = try await eventLines(stack, id).compactMap { $0["message"] as? String }
                    .filter { $0.hasPrefix("claimed by ") || $0.hasPrefix("taken over by ") }
                #expect(claims.count == 1, "\(id): \(claims)")
                owners.formUnion(claims.map { String($0.dropFirst("claimed by ".count)) })
            }
            #expect(owners == ["gateway-0", "gateway-1"], "both gateways ran jobs")
            let checkouts = try await stack.pool.query(
                "SELECT job_id::text AS job FROM stage_runs WHERE kind = 'checkout' GROUP BY job_id HAVING count(*) > 1")
            #expect(checkouts.isEmpty, "no job was checked out twice")
        }
    }

    // MARK: helpers

    private func eventLines(_ stack: BuildStack, _ id: String) async throws -> [[String: Any]] {
        let response = try await stack.http.send(
            ClientRequest(
                url: stack.gateway.baseURL + "/v1/jobs/\(id)/events",
                headers: ["Authorization": "Bearer \(stack.token)"], timeout: .seconds(30)))
        #expect(response.headers["Content-Type"] == "application/x-ndjson")
        return response.text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    private func waitForBuildRun(_ stack: BuildStack, _ runID: String, until done: (String) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        var last = "?"
        while ContinuousClock.now < deadline {
            let response = try await stack.http.send(
                ClientRequest(
                    url: stack.service("build-service").baseURL + "/v1/builds/\(runID)",
                    headers: ["Authorization": "Bearer \(stack.token)"]))
            let run = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
            last = run?["status"] as? String ?? "\(response.status)"
            if done(last) { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("build run \(runID) did not reach the expected status; last: \(last)")
    }

    private func diffIDs(_ reference: String) throws -> [String] {
        let config = try skopeoInspect(reference, "--config")
        return try #require((config["rootfs"] as? [String: Any])?["diff_ids"] as? [String])
    }

    private func skopeoInspect(_ reference: String, _ options: String...) throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/skopeo")
        process.arguments = ["inspect", "--tls-verify=false"] + options + [reference]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "skopeo inspect \(reference)")
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    private func processTableContains(_ text: String) -> Bool {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.contains { pid in
            guard pid.allSatisfy(\.isNumber),
                let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
            else { return false }
            return String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains(text)
        }
    }
}
