import Foundation
import Logging

/// `build-<run id>` folders in the work folder of a build-service that died mid-build (a
/// kill -9, a container restarted in its pod): removed at start. The work folder belongs to
/// one process at a time (BUILD_WORK_DIR is per replica), so every such folder is a leftover.
/// A builder the dead process started lives on in its own process group (nothing tells it
/// its parent died): every process whose command line names a leftover folder has its group
/// killed first, so it stops building into a folder that is going away.
enum LeftoverBuildFolders {
    static func remove(in workDirectory: String, logger: Logger) {
        let root = URL(fileURLWithPath: workDirectory).standardizedFileURL.path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        let folders = names.filter { $0.hasPrefix("build-") }.map { "\(root)/\($0)" }
        guard !folders.isEmpty else { return }
        for (pid, group) in builders(naming: folders) {
            kill(-group, SIGKILL)
            logger.notice("killed a dead build's builder", metadata: ["pid": "\(pid)", "process.group": "\(group)"])
        }
        for folder in folders {
            do {
                try FileManager.default.removeItem(atPath: folder)
                logger.notice("removed a dead build's folder", metadata: ["folder": "\(folder)"])
            } catch {
                logger.warning("could not remove a dead build's folder", metadata: ["folder": "\(folder)", "error": "\(error)"])
            }
        }
    }

    /// Processes (pid, process group) whose arguments name one of `folders` or a path in it;
    /// never this process's own group.
    static func builders(naming folders: [String]) -> [(pid: pid_t, group: pid_t)] {
        let own = getpgrp()
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid_t($0) }
        return pids.compactMap { pid in
            guard pid != getpid(), let raw = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let arguments = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            let names = arguments.contains { argument in
                folders.contains { argument == $0 || argument.contains($0 + "/") }
            }
            guard names else { return nil }
            let group = getpgid(pid)
            guard group > 1, group != own else { return nil }
            return (pid, group)
        }
    }
}
