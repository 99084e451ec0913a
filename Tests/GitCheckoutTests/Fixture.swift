import Foundation
import GitCheckout
import Processes

struct FixtureError: Error, CustomStringConvertible {
    let description: String
}

/// A temporary folder with repositories made by real git, and the checkout
/// service's cache and work folders. `remove()` deletes all of it.
struct Fixture: Sendable {
    let root: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/gitcheckout-test-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw FixtureError(description: "mkdtemp failed") }
        root = String(cString: made)
        for folder in ["served", "home", "cache", "work"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(folder)", withIntermediateDirectories: true)
        }
    }

    /// Where served repositories live (a git daemon's or HTTP server's base path).
    var served: String { "\(root)/served" }
    var cache: String { "\(root)/cache" }
    var work: String { "\(root)/work" }

    func remove() {
        try? FileManager.default.removeItem(atPath: root)
    }

    func checkout(
        policy: RepositoryPolicy = RepositoryPolicy(allowFileURLs: true, allowPlainHTTP: true),
        credentials: GitCredentials = GitCredentials(), cache: String? = nil, gitTimeout: Duration = .seconds(60),
        contextCacheLimit: Int = 4
    ) -> ContextCheckout {
        ContextCheckout(
            configuration: .init(
                cacheDirectory: cache ?? self.cache, workDirectory: work, policy: policy, credentials: credentials,
                gitTimeout: gitTimeout, stopGracePeriod: .milliseconds(500), contextCacheLimit: contextCacheLimit))
    }

    /// Runs the test's own git (author settings, its own HOME, file protocol allowed).
    @discardableResult
    func git(_ arguments: [String], in directory: String? = nil) async throws -> String {
        var environment = ChildProcess.minimalEnvironment
        environment["HOME"] = "\(root)/home"
        environment["GIT_CONFIG_NOSYSTEM"] = "1"
        environment["GIT_AUTHOR_NAME"] = "Fixture"
        environment["GIT_AUTHOR_EMAIL"] = "fixture@example.com"
        environment["GIT_COMMITTER_NAME"] = "Fixture"
        environment["GIT_COMMITTER_EMAIL"] = "fixture@example.com"
        let spec = ProcessSpec(
            "git", ["-c", "init.defaultBranch=main", "-c", "protocol.file.allow=always"] + arguments,
            environment: environment, workingDirectory: directory, timeout: .seconds(60))
        let (result, stdout, stderr) = try await ChildProcess.output(spec)
        guard result.succeeded else {
            throw FixtureError(description: "git \(arguments.joined(separator: " ")): \(stderr)")
        }
        return stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A new repository under `served` with one commit of `files`.
    @discardableResult
    func repository(_ name: String, files: [String: String]) async throws -> String {
        let path = "\(served)/\(name)"
        try await git(["init", "--quiet", path])
        try await commit(files, in: path, message: "initial")
        return path
    }

    /// A repository under `served` with `standardFiles` and one gitlink per submodule, declared in
    /// `.gitmodules` with `url` (none when nil) under its path as name. Made with plumbing rather
    /// than `submodule add`, so a URL can be anything.
    @discardableResult
    func superproject(_ name: String, submodules: [(path: String, url: String?, commit: String)]) async throws
        -> String
    {
        let path = try await repository(name, files: standardFiles)
        for module in submodules {
            try await git(["update-index", "--add", "--cacheinfo", "160000,\(module.commit),\(module.path)"], in: path)
            try await git(["config", "--file", ".gitmodules", "submodule.\(module.path).path", module.path], in: path)
            if let url = module.url {
                try await git(["config", "--file", ".gitmodules", "submodule.\(module.path).url", url], in: path)
            }
        }
        try await git(["add", ".gitmodules"], in: path)
        try await git(["commit", "--quiet", "-m", "submodules"], in: path)
        return path
    }

    /// Writes `files` (path → contents) and commits everything; returns the new SHA.
    @discardableResult
    func commit(_ files: [String: String], in repository: String, message: String) async throws -> String {
        for (path, contents) in files {
            let full = "\(repository)/\(path)"
            try FileManager.default.createDirectory(
                atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(contents.utf8).write(to: URL(fileURLWithPath: full))
        }
        try await git(["add", "--all"], in: repository)
        try await git(["commit", "--quiet", "--allow-empty", "-m", message], in: repository)
        return try await git(["rev-parse", "HEAD"], in: repository)
    }

    func symlink(_ path: String, to target: String, in repository: String) throws {
        let full = "\(repository)/\(path)"
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: full, withDestinationPath: target)
    }

    /// The names in a gzip tarball, as `tar -tzf` lists them.
    func tarEntries(_ tarball: String) async throws -> [String] {
        let (result, stdout, stderr) = try await ChildProcess.output(ProcessSpec("tar", ["-tzf", tarball]))
        guard result.succeeded else { throw FixtureError(description: "tar -tzf: \(stderr)") }
        return stdout.split(separator: "\n").map(String.init)
    }

    /// `tar -tvzf` lines.
    func tarListing(_ tarball: String) async throws -> [String] {
        let (_, stdout, _) = try await ChildProcess.output(
            ProcessSpec(
                "tar", ["--numeric-owner", "--full-time", "-tvzf", tarball],
                environment: ["PATH": "/usr/bin:/bin", "TZ": "UTC"]))
        return stdout.split(separator: "\n").map(String.init)
    }
}

let standardFiles = [
    "Dockerfile": "FROM busybox:1.36\nCOPY . /app\n",
    "app/main.txt": "hello\n",
    "README.md": "# fixture\n",
]
