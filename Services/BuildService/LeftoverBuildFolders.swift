import Foundation
import Logging

/// `build-<run id>` folders in the work folder of a build-service that died mid-build (a
/// kill -9, a container restarted in its pod): removed at start. The work folder belongs to
/// one process at a time (BUILD_WORK_DIR is per replica), so every such folder is a leftover.
enum LeftoverBuildFolders {
    static func remove(in workDirectory: String, logger: Logger) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: workDirectory)) ?? []
        for name in names where name.hasPrefix("build-") {
            do {
                try FileManager.default.removeItem(atPath: "\(workDirectory)/\(name)")
                logger.notice("removed a dead build's folder", metadata: ["folder": "\(name)"])
            } catch {
                logger.warning("could not remove a dead build's folder", metadata: ["folder": "\(name)", "error": "\(error)"])
            }
        }
    }
}
