import Foundation
import HTTPClient
import Postgres
import S3
import TestSupport
import Testing

@testable import BuildService

/// Faults injected into a running stack, each ending with the job's final state and the
/// store checked: a store service killed mid-upload, S3 gone for 20 s, PostgreSQL
/// restarted under running jobs, build-service killed mid-build, a full build folder.
@Suite(
    .serialized,
    .enabled(if: BuildStack.isAvailable, "needs the local stack's servers (deploy/local/up.sh --infra-only; source .local/env)"))
struct FaultTests {
    static func unique(_ name: String) -> String { "\(name)-\(UUID().uuidString.prefix(8).lowercased())" }

    static func request(_ url: String, workload: String, cache: Bool = true) -> [String: Any] {
        ["workload": workload, "service": "s", "repository": ["url": url, "ref": "main"], "cache": cache, "fresh": true]
    }

    /// The end-to-end Dockerfile, its RUN step taking `seconds` longer.
    static func repository(in stack: BuildStack, sleeping seconds: Int) throws -> String {
        try stack.repository(
            "app",
            files: [
                "Dockerfile": GatewayEndToEndTests.dockerfile(
                    run: "sleep \(seconds) && tr a-z A-Z < /src/greeting.txt > /src/GREETING.txt"),
                "greeting.txt": "hello\n",
            ])
    }

    @Test func killingArtifactServiceMidUploadLeavesNoPartsAndTheJobSucceeds() async throws {
        try await BuildStack.with(
            environment: ["STAGE_RETRY_BACKOFF": "1s", "STAGE_RETRIES": "3"],
            services: ["artifact-service": ["S3_UPLOAD_STALE_AFTER": "3s"]]
        ) { stack in
            let workload = Self.unique("fault-upload")
            // 500 MB of random bytes: a tarball of about that, whose upload takes seconds.
            let url = try stack.repository(
                "big", files: ["Dockerfile": "FROM busybox:1.36\nRUN head -c 524288000 /dev/urandom > /blob\n"])
            let id = try await stack.submit(Self.request(url, workload: workload, cache: false))
            let bucket = try stack.bucket()
            let prefix = "images/\(workload)/"

            let uploading = try await poll("a multipart upload under \(prefix)", timeout: .seconds(240)) {
                try await bucket.listMultipartUploads(prefix: prefix).first
            }
            let artifactService = stack.service("artifact-service")
            let port = artifactService.port
            artifactService.kill()
            // Killed mid-upload: nothing is visible under the key, the parts are still there.
            #expect(try await bucket.listObjects(prefix: prefix).objects.isEmpty, "no partial object")
            #expect(try await bucket.listMultipartUploads(prefix: prefix).contains { $0.uploadID == uploading.uploadID })
            try await stack.start("artifact-service", port: port)

            let job = try await stack.wait(for: id, timeout: .seconds(300))
            #expect(job["state"] as? String == "succeeded", "\(job["error"] ?? "")")
            // Retried: the upload (build-service's client resends the file) or the whole stage.
            let build = try #require(BuildStack.stages(job)["build"])
            let resent = stack.service("build-service").logText.contains("retrying after")
            #expect(build["attempt"] as? Int ?? 0 >= 2 || resent, "the upload or the build stage was retried")

            // The dead process's upload is aborted by the restarted one's sweeper.
            _ = try await poll("the abandoned upload aborted", timeout: .seconds(30)) {
                try await bucket.listMultipartUploads(prefix: prefix).isEmpty ? true : nil
            }
            let image = try #require((job["result"] as? [String: Any])?["image"] as? [String: Any])
            let key = try #require(image["key"] as? String)
            let stored = try await stack.storedDigest(of: key)
            #expect(stored.sha256 == image["sha256"] as? String && stored.size == image["size"] as? Int)
            #expect(stored.size > 500_000_000)
            #expect(stack.service("artifact-service").logText.contains("aborted an abandoned multipart upload"))
            try await bucket.deleteObject(key: key)
        }
    }

    @Test func s3GoneFor20SecondsIsRetriedUntilItIsBack() async throws {
        let gate = try TCPGate(target: try TestEnvironment.require("BUILDCHAIN_TEST_S3_ENDPOINT"))
        defer { gate.stop() }
        try await BuildStack.with(
            environment: ["STAGE_RETRIES": "6", "STAGE_RETRY_BACKOFF": "2s"],
            services: ["artifact-service": ["S3_ENDPOINT": gate.url]]
        ) { stack in
            let workload = Self.unique("fault-s3")
            let url = try Self.repository(in: stack, sleeping: 3)
            let id = try await stack.submit(Self.request(url, workload: workload))
            try await stack.wait(for: id, timeout: .seconds(120)) {
                BuildStack.stages($0)["build"]?["status"] as? String == "running" || BuildStack.ended($0)
            }
            gate.shut()
            let shutAt = ContinuousClock.now
            try await Task.sleep(for: .seconds(20))
            let during = try await stack.job(id)
            gate.open()
            #expect(!BuildStack.ended(during), "the job waited out the outage: \(during["error"] ?? "")")

            let job = try await stack.wait(for: id, timeout: .seconds(180))
            #expect(job["state"] as? String == "succeeded", "\(job["error"] ?? "")")
            #expect(ContinuousClock.now - shutAt >= .seconds(20))
            let build = try #require(BuildStack.stages(job)["build"])
            #expect(build["attempt"] as? Int ?? 0 >= 2, "the build stage met the outage and was retried")
            let image = try #require((job["result"] as? [String: Any])?["image"] as? [String: Any])
            let stored = try await stack.storedDigest(of: try #require(image["key"] as? String))
            #expect(stored.sha256 == image["sha256"] as? String)
            #expect(try await stack.bucket().listMultipartUploads(prefix: "images/\(workload)/").isEmpty)
        }
    }

    @Test func restartingPostgreSQLUnderRunningJobsLosesAndDuplicatesNothing() async throws {
        let restart = try TestEnvironment.require("BUILDCHAIN_TEST_PG_RESTART")
        try await BuildStack.with(gateways: 2) { stack in
            let workload = Self.unique("fault-pg")
            let url = try Self.repository(in: stack, sleeping: 2)
            var ids: [String] = []
            for _ in 0..<4 { ids.append(try await stack.submit(Self.request(url, workload: workload))) }
            try await stack.wait(for: ids[0], timeout: .seconds(120)) {
                BuildStack.stages($0)["build"]?["status"] as? String == "running" || BuildStack.ended($0)
            }
            #expect(try await WaitedShell.run(restart) == 0, "the restart command failed")

            for id in ids {
                let job = try await stack.wait(for: id, timeout: .seconds(240))
                #expect(job["state"] as? String == "succeeded", "\(id): \(job["error"] ?? "")")
            }
            let jobs = try await stack.pool.query("SELECT id FROM jobs WHERE workload = $1", [workload])
            #expect(jobs.count == ids.count, "no job lost or added")
            let doubles = try await stack.pool.query(
                """
                SELECT job_id, kind FROM stage_runs WHERE status = 'succeeded'
                GROUP BY job_id, kind HAVING count(*) > 1
                """)
            #expect(doubles.isEmpty, "no stage of a job succeeded twice")
            let builds = try await stack.pool.query(
                "SELECT DISTINCT job_id FROM stage_runs WHERE kind = 'build' AND status = 'succeeded'")
            #expect(builds.count == ids.count, "every job has its build")
        }
    }

    @Test func killingBuildServiceMidBuildRetriesTheStageAfterItsHeartbeatStops() async throws {
        try await BuildStack.with { stack in
            let workload = Self.unique("fault-build")
            let url = try Self.repository(in: stack, sleeping: 8)
            let id = try await stack.submit(Self.request(url, workload: workload))
            let running = try await stack.wait(for: id, timeout: .seconds(120)) {
                BuildStack.stages($0)["build"]?["run_id"] is String || BuildStack.ended($0)
            }
            let firstRun = try #require(BuildStack.stages(running)["build"]?["run_id"] as? String)
            try await Task.sleep(for: .seconds(2))
            let buildService = stack.service("build-service")
            let port = buildService.port
            let deadFolder = stack.work.appendingPathComponent("builds/build-\(firstRun)").path
            #expect(!LeftoverBuildFolders.builders(naming: [deadFolder]).isEmpty, "buildah is running the build")
            buildService.kill()
            try await stack.start("build-service", port: port)
            // (buildah, a Go program, dies at its next write to the closed pipe; a builder that
            // lives on is killed by the restarted service: LeftoverBuildFoldersTests.)
            #expect(LeftoverBuildFolders.builders(naming: [deadFolder]).isEmpty, "no builder of the dead run is left")

            let job = try await stack.wait(for: id, timeout: .seconds(240))
            #expect(job["state"] as? String == "succeeded", "\(job["error"] ?? "")")
            let build = try #require(BuildStack.stages(job)["build"])
            #expect(build["attempt"] as? Int == 2, "retried once")
            #expect(build["run_id"] as? String != firstRun, "a new run")
            let messages = try await stack.pool.query(
                "SELECT message FROM job_events WHERE job_id = $1::uuid", [id]
            ).map { try $0.decode("message", as: String.self) }
            #expect(messages.contains { $0.hasPrefix("RUN_ABANDONED") }, "the lost run was seen as lost: \(messages)")
            let lost = try await stack.pool.query("SELECT status, error::text AS error FROM stage_runs WHERE id = $1::uuid", [firstRun])
            #expect(try lost.first?.decode("status", as: String.self) == "failed")
            #expect(try lost.first?.decode("error", as: String.self).contains("RUN_ABANDONED") == true)
            // The restarted service removed the dead one's build folder.
            let folders = try FileManager.default.contentsOfDirectory(atPath: stack.work.appendingPathComponent("builds").path)
            #expect(!folders.contains("build-\(firstRun)"), "\(folders)")
        }
    }

    @Test func aFullBuildFolderFailsClearlyAndCorruptsNothing() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(Self.unique("full-disk")).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // A 40 MiB file system: room for a small image's folder, not for a 64 MiB one.
        try #require(try await WaitedShell.run("mount -t tmpfs -o size=40m buildchain-full \(folder)") == 0, "mount needs root")
        defer {
            _ = try? WaitedShell.runBlocking("umount \(folder)")
            try? FileManager.default.removeItem(atPath: folder)
        }
        try await BuildStack.with(services: ["build-service": ["BUILD_WORK_DIR": folder]]) { stack in
            let workload = Self.unique("fault-disk")
            let small = try stack.repository(
                "small", files: ["Dockerfile": GatewayEndToEndTests.dockerfile(), "greeting.txt": "hello\n"])
            let big = try stack.repository(
                "big", files: ["Dockerfile": "FROM busybox:1.36\nRUN head -c 67108864 /dev/urandom > /blob\n"])

            let first = try await stack.wait(for: try await stack.submit(Self.request(small, workload: workload)))
            #expect(first["state"] as? String == "succeeded", "\(first["error"] ?? "")")
            let firstImage = try #require((first["result"] as? [String: Any])?["image"] as? [String: Any])
            let firstKey = try #require(firstImage["key"] as? String)

            let failed = try await stack.wait(for: try await stack.submit(Self.request(big, workload: workload, cache: false)))
            #expect(failed["state"] as? String == "failed")
            let error = try #require(failed["error"] as? [String: Any])
            #expect(error["code"] as? String == "NO_SPACE" && error["stage"] as? String == "build", "\(error)")
            #expect((error["message"] as? String)?.contains("no space left") == true, "\(error)")
            let left = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("build-") }
            #expect(left.isEmpty, "the run's folder was removed: \(left)")

            // The earlier image is intact; nothing was stored for the failed one.
            let stored = try await stack.storedDigest(of: firstKey)
            #expect(stored.sha256 == firstImage["sha256"] as? String)
            let keys = try await stack.bucket().listObjects(prefix: "images/\(workload)/").objects.map(\.key)
            #expect(Set(keys) == [firstKey, firstKey + ".json"], "\(keys)")

            let again = try await stack.wait(for: try await stack.submit(Self.request(small, workload: workload)))
            #expect(again["state"] as? String == "succeeded", "the service builds again: \(again["error"] ?? "")")
        }
    }

    /// Calls `probe` every 100 ms until it returns a value; fails after `timeout`.
    func poll<T>(_ what: String, timeout: Duration, _ probe: () async throws -> T?) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let value = try await probe() { return value }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("timed out waiting for \(what)")
        throw CancellationError()
    }
}

/// Faults/tcp_gate.py: a relay to `target` that `shut()` makes refuse and reset every
/// connection, as a server that went away, until `open()`.
final class TCPGate: Sendable {
    let url: String
    let port: Int
    private let server: ScriptServer

    init(target: String) throws {
        let address = try #require(URL(string: target))
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Faults/tcp_gate.py")
        server = try ScriptServer(script: script, arguments: [address.host ?? "127.0.0.1", "\(address.port ?? 80)"])
        port = server.port
        url = "http://127.0.0.1:\(server.port)"
    }

    /// Returns once the gate refuses connections, so a test's outage starts when it says.
    func shut() { signal(SIGUSR1, until: false) }
    /// Returns once the gate accepts connections again.
    func open() { signal(SIGUSR2, until: true) }
    func stop() { server.stop() }

    private func signal(_ number: Int32, until accepting: Bool) {
        kill(server.processID, number)
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if Self.accepts(port: port) == accepting { return }
            usleep(20_000)
        }
        Issue.record("the gate on port \(port) did not \(accepting ? "open" : "shut") within 5 s")
    }

    private static func accepts(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
