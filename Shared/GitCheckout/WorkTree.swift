import Foundation

/// The files of one commit in a fresh folder. The work tree's git folder is
/// private and borrows the mirror's objects (alternates): nothing is copied,
/// nothing is written into the shared mirror, and the tree itself holds no `.git`.
struct WorkTree: Sendable {
    let gitDir: String
    let root: String

    static func materialize(commit: String, mirror: String, in folder: String, git: GitCommand) async throws
        -> WorkTree
    {
        let tree = WorkTree(gitDir: "\(folder)/git", root: "\(folder)/tree")
        do {
            try tree.writeGitDirectory(borrowingFrom: mirror)
            try FileManager.default.createDirectory(atPath: tree.root, withIntermediateDirectories: false)
        } catch {
            throw CheckoutError.storageFailed("cannot prepare the work tree: \(error)")
        }
        try await git.run(
            "checkout", ["checkout", "--quiet", "--detach", commit], gitDir: tree.gitDir, workTree: tree.root,
            stage: .checkout)
        return tree
    }

    /// The layout `git init --bare` makes (gitrepository-layout), written directly:
    /// one process less on every checkout.
    private func writeGitDirectory(borrowingFrom mirror: String) throws {
        for folder in ["objects/info", "refs/heads", "refs/tags"] {
            try FileManager.default.createDirectory(atPath: "\(gitDir)/\(folder)", withIntermediateDirectories: true)
        }
        try Data("ref: refs/heads/main\n".utf8).write(to: URL(fileURLWithPath: "\(gitDir)/HEAD"))
        try Data("[core]\n\trepositoryformatversion = 0\n\tbare = true\n".utf8).write(
            to: URL(fileURLWithPath: "\(gitDir)/config"))
        try Data("\(mirror)/objects\n".utf8).write(to: URL(fileURLWithPath: "\(gitDir)/objects/info/alternates"))
    }
}
