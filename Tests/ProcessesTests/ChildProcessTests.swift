import Foundation
import Processes
import Synchronization
import Testing

@Suite struct ChildProcessTests {
    @Test func streamsLinesAndReportsTheExitStatus() async throws {
        let lines = Mutex<[String]>([])
        let result = try await ChildProcess.run(
            ProcessSpec("/bin/sh", ["-c", "echo one; echo two >&2; printf 'three'; exit 7"])
        ) { stream, line in lines.withLock { $0.append("\(stream.rawValue):\(line)") } }
        #expect(result.exitStatus == 7)
        #expect(!result.succeeded)
        #expect(Set(lines.withLock { $0 }) == ["stdout:one", "stderr:two", "stdout:three"])
    }

    @Test func passesOnlyTheGivenEnvironment() async throws {
        setenv("BUILDCHAIN_PARENT_SECRET", "leak", 1)
        let (result, stdout, _) = try await ChildProcess.output(
            ProcessSpec("env", environment: ["PATH": "/usr/bin:/bin", "ONLY": "this"]))
        #expect(result.succeeded)
        #expect(stdout.contains("ONLY=this"))
        #expect(!stdout.contains("BUILDCHAIN_PARENT_SECRET"))
    }

    @Test func timeoutKillsTheWholeProcessGroup() async throws {
        let seconds = Int.random(in: 3000...3999)
        let started = ContinuousClock.now
        let result = try await ChildProcess.run(
            ProcessSpec(
                "/bin/sh", ["-c", "sleep \(seconds) & sleep \(seconds)"], timeout: .milliseconds(300),
                gracePeriod: .milliseconds(300)))
        #expect(result.timedOut)
        #expect(result.signal == SIGTERM)
        #expect(ContinuousClock.now - started < .seconds(5))
        let (_, survivors, _) = try await ChildProcess.output(ProcessSpec("pgrep", ["-f", "sleep \(seconds)"]))
        #expect(survivors.isEmpty, "the background sleep of the group was killed too")
    }

    @Test func leftoversOfAFinishedLeaderDoNotHoldTheRun() async throws {
        let started = ContinuousClock.now
        let result = try await ChildProcess.run(ProcessSpec("/bin/sh", ["-c", "sleep 300 & echo done"]))
        #expect(result.exitStatus == 0)
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test func cancellingTheTaskSendsSIGTERMTheChildCanHandle() async throws {
        let lines = Mutex<[String]>([])
        let task = Task {
            try await ChildProcess.run(
                ProcessSpec("/bin/sh", ["-c", "trap 'echo got-term; exit 3' TERM; echo ready; while :; do sleep 0.05; done"])
            ) { _, line in lines.withLock { $0.append(line) } }
        }
        while !lines.withLock({ $0.contains("ready") }) { try await Task.sleep(for: .milliseconds(20)) }
        task.cancel()
        let result = try await task.value
        #expect(result.cancelled)
        #expect(result.exitStatus == 3)
        #expect(lines.withLock { $0 }.contains("got-term"))
    }

    @Test func escalatesToSIGKILLWhenTERMIsIgnored() async throws {
        let result = try await ChildProcess.run(
            ProcessSpec(
                "/bin/sh", ["-c", "trap '' TERM; while :; do sleep 0.05; done"], timeout: .milliseconds(200),
                gracePeriod: .milliseconds(300)))
        #expect(result.timedOut)
        #expect(result.signal == SIGKILL)
    }

    /// A long-lived child started beside a short run must not hold the short
    /// run's output pipes open.
    @Test func concurrentRunsDoNotInheritEachOthersPipes() async throws {
        let long = Task { try await ChildProcess.run(ProcessSpec("/bin/sh", ["-c", "sleep 5"], timeout: .seconds(10))) }
        defer { long.cancel() }
        try await Task.sleep(for: .milliseconds(50))
        let started = ContinuousClock.now
        for _ in 0..<20 {
            let sleeper = Task { try await ChildProcess.run(ProcessSpec("/bin/sh", ["-c", "sleep 3"])) }
            let quick = try await ChildProcess.run(ProcessSpec("/bin/true"))
            #expect(quick.succeeded)
            sleeper.cancel()
        }
        #expect(ContinuousClock.now - started < .seconds(2.5), "quick runs waited for other runs' children")
    }

    @Test func reportsAMissingExecutable() async throws {
        await #expect(throws: ProcessError.self) {
            try await ChildProcess.run(ProcessSpec("no-such-program-\(UUID().uuidString)"))
        }
    }

    @Test func runsInTheGivenDirectory() async throws {
        let (_, stdout, _) = try await ChildProcess.output(ProcessSpec("pwd", workingDirectory: "/tmp"))
        #expect(stdout == "/tmp\n")
    }
}
