import PathBytes

/// What to check out and which part of it is the build context.
public struct CheckoutRequest: Sendable, Hashable, Codable {
    /// `https://`, `ssh://`, `git@host:path`, `git://` (and `file://`/`http://` where the policy allows them).
    public var repository: String
    /// A branch, a tag, a full or short commit SHA, `HEAD` (the remote's default branch),
    /// or a full ref such as `refs/pull/123/head`.
    public var ref: String
    /// Accepted for callers that think in shallow clones; the mirror cache always holds the
    /// full history, so that later checkouts of any commit cost a small fetch.
    public var depth: Int?
    public var submodules: Bool
    /// The build context, relative to the repository root.
    public var contextPath: String
    /// The Dockerfile, relative to the context.
    public var dockerfilePath: String

    public init(
        repository: String, ref: String, depth: Int? = nil, submodules: Bool = false, contextPath: String = ".",
        dockerfilePath: String = "Dockerfile"
    ) {
        self.repository = repository
        self.ref = ref
        self.depth = depth
        self.submodules = submodules
        self.contextPath = contextPath
        self.dockerfilePath = dockerfilePath
    }
}

/// A request that passed `RepositoryPolicy.validate`, with normalized paths.
public struct ValidatedRequest: Sendable, Hashable {
    public let repository: RepositoryURL
    public let ref: String
    public let depth: Int?
    public let submodules: Bool
    /// Relative to the repository root without `.` segments; "." for the root itself.
    public let contextPath: String
    /// Relative to the context, without `.` segments.
    public let dockerfilePath: String

    /// The Dockerfile relative to the repository root.
    public var dockerfilePathInRepository: String {
        contextPath.bytesEqual(".") ? dockerfilePath : "\(contextPath)/\(dockerfilePath)"
    }
}
