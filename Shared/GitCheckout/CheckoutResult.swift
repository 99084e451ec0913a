/// What a checkout produced. The tarball at `context.path` belongs to the caller,
/// who removes it after the upload.
public struct CheckoutResult: Sendable, Hashable {
    /// The normalized repository URL (never with credentials).
    public let repository: String
    /// The full commit SHA the ref resolved to.
    public let commit: String
    /// The full ref name the ref resolved through (`refs/heads/main`), nil for a SHA.
    public let resolvedRef: String?
    public let context: PackedContext
    /// The tarball was packed by an earlier checkout of the same commit and reused.
    public let contextReused: Bool
    /// The Dockerfile's text.
    public let dockerfile: String
    /// The Dockerfile relative to the repository root.
    public let dockerfilePath: String
    /// The context folder relative to the repository root ("." for the root).
    public let contextPath: String
    public let mirror: MirrorOutcome
    /// The repository's kept work tree was moved to the commit (only changed files written).
    public let workTreeKept: Bool
    /// Submodule paths (relative to the repository root) that were checked out.
    public let submodules: [String]
    public let timings: CheckoutTimings
}

/// The gzip tarball of the build context.
public struct PackedContext: Sendable, Hashable {
    public let path: String
    public let size: Int64
    /// Lowercase hex SHA-256 of the tarball file.
    public let sha256: String
    /// Files, folders and symlinks in the tarball.
    public let entries: Int
}

/// How the mirror cache served a checkout.
public enum MirrorOutcome: String, Sendable, Hashable, Codable {
    /// No mirror yet: it was cloned.
    case created
    /// The mirror existed and was fetched.
    case fetched
    /// The request named a full SHA the mirror already had: no network at all.
    case reusedWithoutFetch

    public var reused: Bool { self != .created }
}

public struct CheckoutTimings: Sendable, Hashable {
    /// Waiting for the mirror's lock, cloning or fetching, resolving the ref.
    public let fetch: Duration
    /// Writing the work tree, submodules included.
    public let checkout: Duration
    /// Selecting files and writing and hashing the tarball.
    public let pack: Duration
    public let total: Duration
}

/// A line of git's output (scrubbed of credentials), for the run's event log.
public struct CheckoutEvent: Sendable, Hashable {
    public enum Stage: String, Sendable, Hashable, Codable {
        case fetch, checkout, submodules, pack
    }

    public let stage: Stage
    public let message: String

    public init(stage: Stage, message: String) {
        self.stage = stage
        self.message = message
    }
}
