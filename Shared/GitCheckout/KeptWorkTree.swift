import Foundation
import Processes

/// The work tree a repository keeps between checkouts (`<mirror folder>/worktree`): moving it to
/// a new commit rewrites only the files that changed, git comparing against its own index, where a
/// fresh tree writes every file. One checkout holds it at a time through a non-blocking `flock` on
/// `worktree.lock`; a checkout that finds it held gets nil and uses a fresh tree instead of waiting.
/// The tree is trusted only while `git/buildchain-clean` exists: the marker is removed before git
/// touches the tree and written once git finished, so a checkout stopped half-way leaves a tree the
/// next one rebuilds from scratch. Nothing but git writes into it; packing only reads.
struct KeptWorkTree: Sendable {
    let tree: WorkTree
    private let lock: FileLock

    /// The kept tree at `commit`, or nil when another checkout holds it. Call `release()` once the
    /// tree has been read (packed).
    static func borrow(commit: String, mirror: String, folder: String, git: GitCommand) async throws
        -> KeptWorkTree?
    {
        guard let lock = try FileLock.tryAcquire(path: "\(folder)/worktree.lock") else { return nil }
        let kept = "\(folder)/worktree"
        let tree = WorkTree(gitDir: "\(kept)/git", root: "\(kept)/tree")
        let marker = "\(tree.gitDir)/buildchain-clean"
        do {
            if unlink(marker) == 0 {
                do {
                    try await git.run(
                        "checkout", ["checkout", "--quiet", "--detach", "--force", commit], gitDir: tree.gitDir,
                        workTree: tree.root, stage: .checkout)
                    try Self.writeMarker(marker)
                    return KeptWorkTree(tree: tree, lock: lock)
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    // The commit it was at may be gone from the mirror (a forced push, gc): start over below.
                }
            }
            await Blocking.remove(kept)
            let fresh = try await WorkTree.materialize(commit: commit, mirror: mirror, in: kept, git: git)
            try Self.writeMarker(marker)
            return KeptWorkTree(tree: fresh, lock: lock)
        } catch {
            lock.release()
            throw error
        }
    }

    func release() { lock.release() }

    private static func writeMarker(_ path: String) throws(CheckoutError) {
        guard FileManager.default.createFile(atPath: path, contents: Data()) else {
            throw .storageFailed("cannot mark the kept work tree clean at \(path)")
        }
    }
}
