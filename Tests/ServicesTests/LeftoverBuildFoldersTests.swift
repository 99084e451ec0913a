import Foundation
import Logging
import Processes
import Testing

@testable import BuildService

/// What a build-service finds at start after its predecessor was killed mid-build: the run's
/// folder, and the builder still running in it in a process group of its own.
@Suite struct LeftoverBuildFoldersTests {
    @Test func killsTheBuilderStillRunningInALeftoverFolderAndRemovesIt() async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("leftovers-\(UUID().uuidString.prefix(8))")
        let folder = work.appendingPathComponent("build-\(UUID().uuidString.lowercased())")
        let other = work.appendingPathComponent("buildah")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }

        // A stand-in builder, started as build-service starts buildah (its own process group),
        // with a child in the same group and the run's folder in its arguments.
        let builder = Task {
            try await ChildProcess.run(
                ProcessSpec("/bin/sh", ["-c", "sleep 300 & wait", "builder", "\(folder.path)/context"])
            ) { _, _ in }
        }
        // An unrelated process naming only a sibling folder is left alone.
        let bystander = Task {
            try await ChildProcess.run(ProcessSpec("/bin/sh", ["-c", "sleep 300", "bystander", other.path])) { _, _ in }
        }
        defer { bystander.cancel() }
        let deadline = ContinuousClock.now + .seconds(10)
        var found: [(pid: pid_t, group: pid_t)] = []
        while found.isEmpty && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            found = LeftoverBuildFolders.builders(naming: [folder.path])
        }
        let group = try #require(found.first?.group, "the builder is found by its arguments")
        #expect(found.count == 1 && group != getpgrp())
        try await Task.sleep(for: .milliseconds(200))

        LeftoverBuildFolders.remove(in: work.path, logger: Logger(label: "test"))
        let result = try await builder.value
        #expect(result.signal == SIGKILL, "\(result)")
        try await Task.sleep(for: .milliseconds(200))
        #expect(Self.living(in: group).isEmpty, "the whole group is gone, the sleep too")
        #expect(!FileManager.default.fileExists(atPath: folder.path))
        #expect(FileManager.default.fileExists(atPath: other.path), "only build-* folders are removed")
        #expect(LeftoverBuildFolders.builders(naming: [other.path]).count == 1, "the bystander still runs")
    }

    /// Processes of process group `group` that are not zombies (an orphan's exit is reaped
    /// by whoever is init here, in its own time).
    static func living(in group: pid_t) -> [pid_t] {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid_t($0) }
        return pids.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            // After "pid (comm) ": state, ppid, pgrp.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && fields[0] != "Z" && pid_t(fields[2]) == group
        }
    }
}
