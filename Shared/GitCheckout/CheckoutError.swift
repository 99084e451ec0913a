/// Why a checkout failed. Every text in here is free of credentials: git's
/// messages are scrubbed before they reach an error.
public enum CheckoutError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request breaks the repository policy (400); `field` names the offending input.
    case invalidRequest(field: String, reason: String)
    /// The ref (branch, tag, SHA, `refs/…`) does not exist in the repository (404).
    case refNotFound(String)
    /// The server refused the credentials, or asked for some that are not configured.
    case authenticationFailed(repository: String)
    /// The server says there is no such repository.
    case repositoryNotFound(repository: String)
    /// The context folder or the Dockerfile does not exist at that commit; `path` is where it
    /// was looked for, from the repository root; `hint` what does exist, when that helps.
    case pathNotFound(field: String, path: String, hint: String? = nil)
    /// The context folder or the Dockerfile resolves (through a symlink) outside the repository.
    case pathOutsideRepository(field: String, path: String)
    /// The context's `.dockerignore` has a pattern Docker would refuse too.
    case invalidDockerignore(reason: String)
    /// git failed for another reason; `message` is git's scrubbed output. `transient` when git
    /// says the network failed (a refused or reset connection, a host not resolved, a 5xx).
    case gitFailed(operation: String, message: String, transient: Bool = false)
    /// A git (or tar) run took longer than the configured timeout and was killed.
    case timedOut(operation: String)
    /// A submodule failed: `path` from the repository root, `url` as `.gitmodules` gives it
    /// (credentials redacted), `failure` what went wrong with it.
    indirect case submodule(path: String, url: String, failure: CheckoutError)
    /// Writing the context tarball failed.
    case packingFailed(String)
    /// The mirror cache or work folder could not be used (permissions, disk).
    case storageFailed(String)

    /// A stable, machine-readable code for problem+json responses.
    public var code: String {
        switch self {
        case .submodule(_, _, let failure): failure.code
        case .invalidRequest: "invalid_request"
        case .refNotFound: "ref_not_found"
        case .authenticationFailed: "repository_authentication_failed"
        case .repositoryNotFound: "repository_not_found"
        case .pathNotFound: "path_not_found"
        case .pathOutsideRepository: "path_outside_repository"
        case .invalidDockerignore: "invalid_dockerignore"
        case .gitFailed: "git_failed"
        case .timedOut: "git_timed_out"
        case .packingFailed: "packing_failed"
        case .storageFailed: "storage_failed"
        }
    }

    public var description: String {
        switch self {
        case .invalidRequest(let field, let reason): "invalid \(field): \(reason)"
        case .refNotFound(let ref): "ref not found: \(ref)"
        case .authenticationFailed(let repository): "authentication failed for \(repository)"
        case .repositoryNotFound(let repository): "repository not found: \(repository)"
        case .pathNotFound(let field, let path, let hint):
            "\(field) not found in the repository: \(path)\(hint.map { " (\($0))" } ?? "")"
        case .pathOutsideRepository(let field, let path): "\(field) resolves outside the repository: \(path)"
        case .invalidDockerignore(let reason): "invalid .dockerignore: \(reason)"
        case .gitFailed(let operation, let message, _): "git \(operation) failed: \(message)"
        case .timedOut(let operation): "git \(operation) timed out"
        case .packingFailed(let message): "packing the context failed: \(message)"
        case .storageFailed(let message): "checkout storage failed: \(message)"
        case .submodule(let path, let url, let failure):
            "submodule \(path)\(url.isEmpty ? "" : " (\(url))"): \(failure.description)"
        }
    }

    /// What failed at the bottom: the submodule's own failure, else this.
    public var cause: CheckoutError {
        if case .submodule(_, _, let failure) = self { failure.cause } else { self }
    }

    /// Whether the same checkout can pass when tried again: network failures and timeouts
    /// (and storage), never a policy refusal or something missing.
    public var isTransient: Bool {
        switch cause {
        case .gitFailed(_, _, let transient): transient
        case .timedOut, .storageFailed: true
        default: false
        }
    }
}
