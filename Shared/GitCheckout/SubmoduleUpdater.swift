import Foundation

/// Checks out submodules one level at a time, so that every submodule URL passes
/// the repository policy before git sees it (nested ones included) and git
/// carries only the credentials of the hosts involved.
struct SubmoduleUpdater: Sendable {
    let policy: RepositoryPolicy
    let git: GitCommand
    static let maximumDepth = 8

    struct Module: Sendable {
        let name: String
        let path: String
        /// Where it is fetched from; a relative URL stays on its superproject's host.
        let repository: RepositoryURL
    }

    /// Updates the submodules of the checkout at `directory` (`relativePath` from the
    /// root; `gitDir`/`workTree` for the top level). Returns the checked-out paths.
    func update(
        in directory: String, relativePath: String, repository: RepositoryURL, gitDir: String? = nil,
        workTree: String? = nil, level: Int = 0
    ) async throws -> [String] {
        let modules = try await declaredModules(in: directory, superproject: repository)
        guard !modules.isEmpty else { return [] }
        guard level < Self.maximumDepth else {
            throw CheckoutError.invalidRequest(field: "submodules", reason: "nested deeper than \(Self.maximumDepth)")
        }
        let command = git.authorizing(modules.map(\.repository))
        try await command.run(
            "submodule update", ["submodule", "update", "--init", "--progress"], gitDir: gitDir, workTree: workTree,
            in: directory, stage: .submodules)
        var paths: [String] = []
        for module in modules where FileManager.default.fileExists(atPath: "\(directory)/\(module.path)/.git") {
            let path = relativePath.isEmpty ? module.path : "\(relativePath)/\(module.path)"
            paths.append(path)
            paths += try await SubmoduleUpdater(policy: policy, git: command).update(
                in: "\(directory)/\(module.path)", relativePath: path, repository: module.repository,
                level: level + 1)
        }
        return paths
    }

    /// The submodules `.gitmodules` declares, each URL checked against the policy.
    private func declaredModules(in directory: String, superproject: RepositoryURL) async throws -> [Module] {
        let file = "\(directory)/.gitmodules"
        guard FileManager.default.fileExists(atPath: file) else { return [] }
        let output = try await git.run(
            "config", ["config", "--file", file, "--null", "--get-regexp", #"^submodule\..*\.(url|path)$"#],
            check: false)
        guard output.succeeded else { return [] }
        var urls: [String: String] = [:]
        var paths: [String: String] = [:]
        for entry in output.stdout.split(separator: "\0") {
            guard let newline = entry.firstIndex(of: "\n") else { continue }
            let key = entry[..<newline]
            let value = String(entry[entry.index(after: newline)...])
            let isURL = key.hasSuffix(".url")
            let name = String(key.dropFirst("submodule.".count).dropLast(isURL ? 4 : 5))
            if isURL { urls[name] = value } else { paths[name] = value }
        }
        var modules: [Module] = []
        for name in urls.keys.sorted() {
            guard let path = paths[name], let url = urls[name] else { continue }
            let field = "submodule \(name)"
            let repository: RepositoryURL
            if url.hasPrefix("./") || url.hasPrefix("../") {
                guard !url.unicodeScalars.contains(where: RepositoryURL.isControlOrSpace) else {
                    throw CheckoutError.invalidRequest(
                        field: field, reason: "URL must not contain control characters or whitespace")
                }
                repository = superproject
            } else {
                do {
                    repository = try policy.repositoryURL(url)
                } catch {
                    guard case .invalidRequest(_, let reason) = error else { throw error }
                    throw CheckoutError.invalidRequest(field: field, reason: "URL \(reason)")
                }
            }
            let cleanPath = try RepositoryPolicy.relativePath(path, field: field)
            modules.append(Module(name: name, path: cleanPath, repository: repository))
        }
        return modules
    }
}
