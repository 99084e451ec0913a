/// A builder behind one interface: Kaniko's executor or buildah. A driver turns
/// a `BuildRequest` into a docker-archive tarball at `request.outputPath`.
///
/// Cancelling the calling task, or the request's timeout, stops the builder's
/// whole process group; the driver then removes what it created for the run
/// and throws `BuildFailure` with kind `.cancelled` or `.timedOut`.
public protocol BuildDriver: Sendable {
    /// Builds; every line the builder writes (standard output and error) goes to `onLine` as it comes.
    /// Throws `BuildRequestError` before anything runs when the request is unusable,
    /// `BuildFailure` when the build fails.
    func build(_ request: BuildRequest, onLine: @escaping @Sendable (String) -> Void) async throws -> BuildOutcome
}

/// Which builder ran, e.g. `buildah` `1.28.2`, `kaniko` `v1.23.2`.
public struct BuilderInfo: Sendable, Equatable, Codable {
    public let name: String
    public let version: String

    public init(name: String, version: String) {
        self.name = name
        self.version = version
    }
}

/// A base image as the builder pulled it: the name it resolved (`docker.io/library/busybox:1.36`)
/// and the manifest digest when the driver could learn it.
public struct BaseImage: Sendable, Equatable, Codable {
    public let name: String
    public let digest: String?

    public init(name: String, digest: String?) {
        self.name = name
        self.digest = digest
    }
}

public struct BuildOutcome: Sendable, Equatable {
    /// The docker-archive tarball (`request.outputPath`).
    public let tarballPath: String
    /// Steps taken from the layer cache instead of being run.
    public let cachedSteps: Int
    /// Dockerfile instructions the builder went through, `FROM` included, over all stages built.
    public let totalSteps: Int
    public let builder: BuilderInfo
    /// In the order the builder pulled them, each once.
    public let baseImages: [BaseImage]
    /// The builder's exit status (0).
    public let exitStatus: Int32
    /// Wall time of the whole build, tarball included.
    public let elapsed: Duration

    public init(
        tarballPath: String, cachedSteps: Int, totalSteps: Int, builder: BuilderInfo, baseImages: [BaseImage],
        exitStatus: Int32, elapsed: Duration
    ) {
        self.tarballPath = tarballPath
        self.cachedSteps = cachedSteps
        self.totalSteps = totalSteps
        self.builder = builder
        self.baseImages = baseImages
        self.exitStatus = exitStatus
        self.elapsed = elapsed
    }
}

/// A build that did not produce an image. `kind` is classified from the builder's
/// own error line (see `BuildahOutput.classify` and `KanikoOutput.classify` for the patterns).
public struct BuildFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable, Codable, CaseIterable {
        /// A `RUN` exited non-zero, a `COPY` source is missing: the build's own steps failed.
        case stepFailed
        /// The Dockerfile cannot be parsed or is missing, an instruction is unknown or lacks arguments,
        /// the `--target` stage does not exist.
        case dockerfileInvalid
        /// A `FROM` (or `COPY --from`) image does not exist: unknown name or tag.
        case baseImageNotFound
        /// A registry (base images, mirror, cache) cannot be reached: connection refused, no such
        /// host, timeout, TLS trouble, HTTP spoken to an HTTPS client.
        case registryUnreachable
        /// The build context cannot be read: the builder refused it, or the build pod could not
        /// download or unpack it.
        case contextInvalid
        /// The request's timeout stopped the builder.
        case timedOut
        /// The calling task was cancelled.
        case cancelled
        /// Anything else: cache repository not writable, tarball not written, builder missing…
        case other
    }

    public let kind: Kind
    /// The builder's exit status (for a failing `RUN`, the step's own exit status when the builder
    /// names it); nil when a signal ended it or it never ran.
    public let exitStatus: Int32?
    /// The builder's error line (`Error: building at STEP "RUN …": exit status 3`), or what went wrong.
    public let message: String
    /// The last lines of the builder's output (at most 40), oldest first.
    public let lastLines: [String]
    /// `buildah` or `kaniko`.
    public let builder: String

    public init(kind: Kind, exitStatus: Int32?, message: String, lastLines: [String], builder: String) {
        self.kind = kind
        self.exitStatus = exitStatus
        self.message = message
        self.lastLines = lastLines
        self.builder = builder
    }

    /// What in a builder's error line says a registry could not be reached (lowercased).
    public static let unreachablePatterns = [
        "connection refused", "no such host", "i/o timeout", "network is unreachable", "no route to host",
        "tls handshake timeout", "x509:", "server gave http response to https client", "connection reset by peer",
        "context deadline exceeded", "temporary failure in name resolution",
    ]

    public var description: String {
        let status = exitStatus.map { " (exit status \($0))" } ?? ""
        let output = lastLines.isEmpty ? "" : "\n" + lastLines.joined(separator: "\n")
        return "\(builder) build failed, \(kind.rawValue)\(status): \(message)\(output)"
    }
}
