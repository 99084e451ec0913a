import BuildDrivers
import Foundation
import OCI
import Synchronization
import Testing

/// Dockerfiles written to break out, built by the real buildah driver with its default sandbox
/// (small limits so the attempts end fast). Each `RUN` probe prints `ESCAPE:<what>` when it gets
/// through and `PROBE:<name>:done` when it ran to its end, so a probe that silently did nothing
/// fails the test too, as does `NOT-RUN:<what>` (the fork bomb or the big file never got going).
/// "Writing a lot" is one 64 MiB file against a 16 MiB file size limit, to stay fast: the
/// driver bounds each file, not a build's total (see deploy/README.md). Needs the `buildchain-build` network (deploy/local/build-network.sh).
@Suite(.enabled(if: TestEnvironment.hasStackOrCI, TestEnvironment.stackReason), .serialized)
struct HostileDockerfileTests {
    /// A stand-in for a service: a process with a secret in its environment, listening on all
    /// addresses (so only the firewall keeps a build from it), answering HTTP.
    final class DummyService: Sendable {
        let secret = TestEnvironment.uniqueName("secret")
        let port: Int
        private let process: Process

        init() throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "python3", "-c",
                """
                import http.server
                s = http.server.HTTPServer(("0.0.0.0", 0), http.server.SimpleHTTPRequestHandler)
                print(s.server_port, flush=True)
                s.serve_forever()
                """,
            ]
            process.environment = ["PATH": "/usr/bin:/bin", "SERVICE_SECRET": secret]
            process.currentDirectoryURL = URL(fileURLWithPath: "/")
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            var line = [UInt8]()
            while let byte = try output.fileHandleForReading.read(upToCount: 1)?.first, byte != UInt8(ascii: "\n") {
                line.append(byte)
            }
            self.process = process
            self.port = Int(String(decoding: line, as: UTF8.self)) ?? 0
        }

        var pid: Int32 { process.processIdentifier }
        var isRunning: Bool { process.isRunning }

        func stop() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// The sandbox under test: the defaults, with limits small enough to hit in seconds.
    static let sandbox = BuildSandbox(pidsLimit: 64, memoryLimitMiB: 128, fileSizeLimitMiB: 16)

    /// Loopback ports of the stack's services (registry, PostgreSQL, S3) where the tests know them.
    static var servicePorts: [Int] {
        let environment = ProcessInfo.processInfo.environment
        var ports: [Int] = []
        if let registry = TestEnvironment.registry, let port = Int(registry.split(separator: ":").last ?? "") {
            ports.append(port)
        }
        for name in ["BUILDCHAIN_TEST_DATABASE_URL", "BUILDCHAIN_TEST_S3_ENDPOINT"] {
            if let text = environment[name], let port = URLComponents(string: text)?.port { ports.append(port) }
        }
        return ports
    }

    /// Every IPv4 address of this machine, and the build network's gateway (the host's side of it).
    static func hostAddresses() async throws -> [String] {
        let output = try await Command.run(["ip", "-4", "-o", "addr", "show"])
        var addresses = output.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ")
            guard let index = words.firstIndex(of: "inet"), index + 1 < words.count else { return nil }
            return words[index + 1].split(separator: "/").first.map(String.init)
        }
        addresses.append("10.89.0.1")
        return Array(Set(addresses)).sorted()
    }

    /// The hostile Dockerfile: one `RUN` per attempt, each ending successfully so every one runs.
    static func hostileDockerfile(
        base: String, registry: String, service: DummyService, hostPIDs: [Int32], addresses: [String],
        markerPath: String
    ) -> String {
        let pids = hostPIDs.map(String.init).joined(separator: " ")
        let ports = (servicePorts + [service.port]).map(String.init).joined(separator: " ")
        let targets = addresses.flatMap { address in (servicePorts + [service.port]).map { "\(address):\($0)" } }
            .joined(separator: " ")
        return """
            FROM \(base)
            RUN echo "uid_map: $(cat /proc/self/uid_map)"; \\
                grep -q '^ *0 *0 ' /proc/self/uid_map && echo ESCAPE:host-root; \\
                echo "PROBE:user:done"
            RUN mine=" $(ls /proc | grep '^[0-9]' | tr '\\n' ' ')"; echo "visible pids:$mine"; \\
                for p in \(pids); do case "$mine" in *" $p "*) continue;; esac; \\
                  kill -0 $p 2>/dev/null && echo ESCAPE:signal:$p; done; \\
                kill -TERM \(service.pid) 2>/dev/null && echo ESCAPE:kill:\(service.pid); \\
                echo "PROBE:signal:done"
            RUN cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' | grep -q '\(service.secret)' && echo ESCAPE:environ; \\
                echo "PROBE:environ:done"
            RUN echo "tcp sockets: $(($(wc -l < /proc/net/tcp) - 1))"; \\
                for port in \(ports); do hex=$(printf ':%04X ' $port); \\
                  grep -q "$hex" /proc/net/tcp /proc/net/tcp6 && echo ESCAPE:sees-listener:$port; done; \\
                for port in \(ports); do nc -w 2 127.0.0.1 $port </dev/null 2>/dev/null && echo ESCAPE:loopback:$port; done; \\
                for target in \(targets); do nc -w 2 ${target%:*} ${target##*:} </dev/null 2>/dev/null \\
                  && echo ESCAPE:connect:$target; done; \\
                echo "PROBE:connect:done"
            RUN for host in 127.0.0.1 10.89.0.1; do \\
                  wget -q -T 3 -O- --post-data= http://$host:\(registry.split(separator: ":").last ?? "5000")/v2/hostile/pushed/blobs/uploads/ \\
                  >/dev/null 2>&1 && echo ESCAPE:push:$host; done; \\
                echo "PROBE:push:done"
            RUN for root in /proc/1/root /proc/self/root /proc/1/cwd; do \\
                  cat $root\(markerPath) 2>/dev/null && echo ESCAPE:host-file:$root; done; \\
                (cd /proc/1/root/../../../../.. && cat .\(markerPath) 2>/dev/null && echo ESCAPE:host-file:dotdot); \\
                echo "PROBE:host-files:done"
            RUN mkdir -p /jail/bin && cp /bin/busybox /jail/bin/ && \\
                chroot /jail /bin/busybox sh -c 'cd /../../../..; /bin/busybox cat .\(markerPath)' 2>/dev/null \\
                  && echo ESCAPE:chroot-jail; \\
                chroot /proc/1/root /bin/cat \(markerPath) 2>/dev/null && echo ESCAPE:chroot-proc; \\
                echo "PROBE:chroot:done"
            RUN mknod /tmp/disk b 8 0 2>/dev/null && echo ESCAPE:mknod; \\
                for dev in /dev/sda /dev/vda /dev/nvme0n1 /tmp/disk; do \\
                  mount -o ro $dev /mnt 2>/dev/null && echo ESCAPE:mount:$dev; done; \\
                mount -o remount,rw /sys 2>/dev/null && touch /sys/kernel/hostile 2>/dev/null && echo ESCAPE:sysfs; \\
                echo "PROBE:mount:done"
            RUN sh -c 'while :; do sleep 20 & done' 2>/dev/null & most=0; i=0; \\
                while [ $i -lt 3000 ]; do set -- /proc/[0-9]*; [ $# -gt $most ] && most=$#; i=$((i+1)); done; \\
                kill -9 -1 2>/dev/null; \\
                echo "most processes during the fork bomb: $most"; \\
                [ $most -le 80 ] || echo ESCAPE:fork-bomb:$most; [ $most -ge 16 ] || echo NOT-RUN:fork-bomb:$most; \\
                echo "PROBE:fork-bomb:done"
            RUN head -c 400m /dev/zero | tail >/dev/null; status=$?; echo "memory hog status: $status"; \\
                [ "$status" -ne 0 ] || echo ESCAPE:memory-hog; \\
                echo "PROBE:memory-hog:done"
            RUN head -c 64m /dev/zero >/big 2>/dev/null; size=$(wc -c </big); echo "written: $size"; \\
                [ "$size" -le 16777216 ] || echo ESCAPE:file-size:$size; \\
                [ "$size" -ge 1048576 ] || echo NOT-RUN:file-size:$size; rm -f /big; \\
                echo "PROBE:write:done"
            """
    }

    static let probes = [
        "user", "signal", "environ", "connect", "push", "host-files", "chroot", "mount", "fork-bomb", "memory-hog",
        "write",
    ]

    /// Lines of the build's output, kept as they come.
    final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    static func hostPIDs() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init).filter { $0 > 1 }
    }

    @Test func everyAttemptStaysInsideTheBuildAndAnOrdinaryBuildStillSucceeds() async throws {
        try await BuildahDriverTests.withSetup { setup in
            let service = try DummyService()
            defer { service.stop() }
            #expect(service.port > 0)
            let markerPath = setup.directory + "/host-secret.txt"
            try Data("host-secret-\(service.secret)\n".utf8).write(to: URL(fileURLWithPath: markerPath))
            let hostPIDs = Self.hostPIDs() + [getpid(), service.pid]
            let dockerfile = Self.hostileDockerfile(
                base: setup.baseImage, registry: setup.registry, service: service, hostPIDs: hostPIDs,
                addresses: try await Self.hostAddresses(), markerPath: markerPath)
            let driver = BuildahDriver(
                configuration: .init(workDirectory: setup.work, gracePeriod: .seconds(3), sandbox: Self.sandbox))
            let hostile = try setup.request(dockerfile, workload: TestEnvironment.uniqueName("hostile"))

            // An ordinary multi-stage build beside it, in a context of its own.
            let ordinaryContext = setup.directory + "/ordinary"
            try FileManager.default.createDirectory(atPath: ordinaryContext, withIntermediateDirectories: true)
            try Data(
                """
                FROM \(setup.baseImage) AS build
                RUN mkdir -p /out && echo built-beside-a-hostile-one > /out/app.txt
                FROM \(setup.baseImage)
                COPY --from=build /out/app.txt /srv/app.txt
                RUN cat /srv/app.txt
                """.utf8
            ).write(to: URL(fileURLWithPath: ordinaryContext + "/Dockerfile"))
            let ordinary = BuildRequest(
                contextDirectory: ordinaryContext, workload: TestEnvironment.uniqueName("ordinary"), service: "web",
                cache: false, mirrors: false, destination: "\(setup.registry)/ordinary/web:test",
                outputPath: setup.directory + "/out/ordinary.tar", timeout: .seconds(300))

            let lines = Lines()
            async let ordinaryOutcome = driver.build(ordinary) { _ in }
            let hostileOutcome = try await driver.build(hostile) { lines.append($0) }
            let ordinaryResult = try await ordinaryOutcome

            let output = lines.all
            let escapes = output.filter { $0.hasPrefix("ESCAPE:") }
            #expect(escapes.isEmpty, "got out: \(escapes)")
            let weak = output.filter { $0.hasPrefix("NOT-RUN:") }
            #expect(weak.isEmpty, "attempts that did not really happen: \(weak)")
            for probe in Self.probes {
                #expect(output.contains("PROBE:\(probe):done"), "probe \(probe) did not run to its end")
            }
            #expect(!output.contains { $0.contains("host-secret-") }, "the host's file was read")
            #expect(hostileOutcome.exitStatus == 0)
            #expect(ordinaryResult.exitStatus == 0)
            #expect(try await DockerArchive.open(path: ordinaryResult.tarballPath).repoTags == [ordinary.destination])

            // The services carry on: the dummy still runs and answers, the registry answers.
            #expect(service.isRunning)
            let answer = try await Command.run(
                ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(service.port)/"])
            #expect(answer.trimmingCharacters(in: .whitespacesAndNewlines) == "200")
            let registry = try await Command.run(
                ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://\(setup.registry)/v2/"])
            #expect(registry.trimmingCharacters(in: .whitespacesAndNewlines) == "200")
            setup.expectStorageRemoved()
        }
    }

    /// The probes can fail: under chroot isolation (no sandbox) the read-only ones get through.
    @Test func theProbesSeeTheHostWithoutTheSandbox() async throws {
        try await BuildahDriverTests.withSetup { setup in
            let service = try DummyService()
            defer { service.stop() }
            let driver = BuildahDriver(
                configuration: .init(workDirectory: setup.work, gracePeriod: .seconds(3), sandbox: .chroot))
            // Read-only attempts only: without a sandbox, the others would really hit the machine.
            // Another process's environ and /proc/<pid>/root are left out: under chroot a RUN step
            // already lacks CAP_SYS_PTRACE, which reading them takes.
            let listener = String(format: ":%04X ", service.port)
            let request = try setup.request(
                """
                FROM \(setup.baseImage)
                RUN kill -0 \(service.pid) 2>/dev/null && echo ESCAPE:signal; \\
                    grep -q '\(listener)' /proc/net/tcp /proc/net/tcp6 && echo ESCAPE:sees-listener; \\
                    nc -w 2 127.0.0.1 \(service.port) </dev/null >/dev/null 2>&1 && echo ESCAPE:loopback; \\
                    echo PROBE:done
                """, workload: TestEnvironment.uniqueName("chroot"))
            let lines = Lines()
            _ = try await driver.build(request) { lines.append($0) }
            let escapes = Set(lines.all.filter { $0.hasPrefix("ESCAPE:") })
            #expect(escapes == ["ESCAPE:signal", "ESCAPE:sees-listener", "ESCAPE:loopback"])
            #expect(lines.all.contains("PROBE:done"))
            #expect(service.isRunning)
        }
    }
}
