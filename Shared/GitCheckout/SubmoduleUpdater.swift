import Foundation

/// Checks out submodules one at a time, level by level. Each URL is resolved as git
/// resolves it (a relative one against its own superproject's URL) and passes the
/// repository policy; git is then told that exact URL (`submodule.<name>.url`), so it
/// never resolves one itself. A submodule's git run carries the checked-out
/// repository's credentials only when the submodule has the same origin.
struct SubmoduleUpdater: Sendable {
    let policy: RepositoryPolicy
    /// The checked-out repository's command: local runs, and the origin credentials belong to.
    let git: GitCommand
    static let maximumDepth = 8

    struct Module: Sendable {
        let name: String
        /// Relative to its superproject.
        let path: String
        /// The commit its superproject records.
        let commit: String
        /// `.gitmodules`' URL as shown in errors (credentials redacted).
        let shownURL: String
        let repository: RepositoryURL
    }

    /// Updates the submodules of the checkout at `directory` (`relativePath` from the root,
    /// fetched from `superproject`; `gitDir`/`workTree` for the top level). Returns the
    /// checked-out paths from the root.
    func update(
        in directory: String, relativePath: String, superproject: RepositoryURL, gitDir: String? = nil,
        workTree: String? = nil, level: Int = 0
    ) async throws -> [String] {
        let gitlinks = try await self.gitlinks(in: directory, gitDir: gitDir, workTree: workTree)
        guard !gitlinks.isEmpty else { return [] }
        guard level < Self.maximumDepth else {
            throw CheckoutError.invalidRequest(field: "submodules", reason: "nested deeper than \(Self.maximumDepth)")
        }
        let modules = try await declaredModules(
            in: directory, gitlinks: gitlinks, relativePath: relativePath, superproject: superproject)
        var paths: [String] = []
        for module in modules {
            let path = Self.joined(relativePath, module.path)
            do {
                try await git.run(
                    "config", ["config", "submodule.\(module.name).url", module.repository.text], gitDir: gitDir,
                    in: directory)
                let output = try await git.fetching(submodule: module.repository).run(
                    "submodule update", ["submodule", "update", "--init", "--progress", "--", module.path],
                    gitDir: gitDir, workTree: workTree, in: directory, stage: .submodules, check: false)
                if !output.succeeded { throw failure(of: module, output: output) }
            } catch let error as CheckoutError {
                throw CheckoutError.submodule(path: path, url: module.shownURL, failure: error)
            }
            // `update = none` in .gitmodules leaves it out.
            guard FileManager.default.fileExists(atPath: "\(directory)/\(module.path)/.git") else { continue }
            paths.append(path)
            paths += try await update(
                in: "\(directory)/\(module.path)", relativePath: path, superproject: module.repository,
                level: level + 1)
        }
        return paths
    }

    /// A submodule's commit missing from its repository is a ref not found; the rest as git says.
    private func failure(of module: Module, output: GitOutput) -> CheckoutError {
        let stderr = output.stderr.lowercased()
        if ["did not contain \(module.commit)", "not our ref", "reference is not a tree", "unadvertised object"]
            .contains(where: stderr.contains)
        {
            return .refNotFound(module.commit)
        }
        return git.fetching(submodule: module.repository).failure("submodule update", output: output)
    }

    /// The submodule commits the index records (mode 160000): path → commit.
    private func gitlinks(in directory: String, gitDir: String?, workTree: String?) async throws -> [String: String] {
        let output = try await git.run(
            "ls-files", ["ls-files", "--stage", "-z"], gitDir: gitDir, workTree: workTree, in: directory)
        var links: [String: String] = [:]
        for entry in output.stdout.split(separator: "\0") where entry.hasPrefix("160000 ") {
            guard let tab = entry.firstIndex(of: "\t") else { continue }
            let fields = entry[..<tab].split(separator: " ")
            guard fields.count == 3 else { continue }
            links[String(entry[entry.index(after: tab)...])] = String(fields[1])
        }
        return links
    }

    /// The submodule behind each gitlink, as `.gitmodules` declares it, its URL resolved and
    /// checked; ordered by path. Entries without a gitlink are not fetched by git and are ignored.
    private func declaredModules(
        in directory: String, gitlinks: [String: String], relativePath: String, superproject: RepositoryURL
    ) async throws -> [Module] {
        var urls: [String: String] = [:]
        var names: [String: [String]] = [:]
        let file = "\(directory)/.gitmodules"
        if FileManager.default.fileExists(atPath: file) {
            let output = try await git.run(
                "config", ["config", "--file", file, "--null", "--get-regexp", #"^submodule\..*\.(url|path)$"#],
                check: false)
            for entry in output.stdout.split(separator: "\0") {
                guard let newline = entry.firstIndex(of: "\n") else { continue }
                let key = entry[..<newline]
                let value = String(entry[entry.index(after: newline)...])
                let isURL = key.hasSuffix(".url")
                let name = String(key.dropFirst("submodule.".count).dropLast(isURL ? 4 : 5))
                if isURL { urls[name] = value } else { names[value, default: []].append(name) }
            }
        }
        var modules: [Module] = []
        for (path, commit) in gitlinks.sorted(by: { $0.key < $1.key }) {
            let fromRoot = Self.joined(relativePath, path)
            func refuse(_ reason: String, url: String = "") -> CheckoutError {
                .submodule(path: fromRoot, url: url, failure: .invalidRequest(field: "url", reason: reason))
            }
            let declared = names[path] ?? []
            guard declared.count < 2 else {
                throw refuse("\(declared.count) entries of .gitmodules claim this path")
            }
            guard let name = declared.first, let raw = urls[name] else { throw refuse("none in .gitmodules") }
            let shown = git.scrubber.scrub(SubmoduleURL.shown(raw))
            do {
                let cleanPath = try RepositoryPolicy.relativePath(path, field: "path")
                let repository = try SubmoduleURL.repository(raw, superproject: superproject, policy: policy)
                // A relative URL (or a local path) is shown with what it resolved to.
                let resolved = repository.text == raw ? shown : "\(shown) → \(repository.text)"
                modules.append(
                    Module(name: name, path: cleanPath, commit: commit, shownURL: resolved, repository: repository))
            } catch {
                throw CheckoutError.submodule(path: fromRoot, url: shown, failure: error)
            }
        }
        return modules
    }

    private static func joined(_ parent: String, _ path: String) -> String {
        parent.isEmpty ? path : "\(parent)/\(path)"
    }
}
