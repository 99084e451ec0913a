/// How a build's files cross into and out of the cluster: the pod's init container downloads the
/// context tarball from a URL and unpacks it into the workspace, the executor reads it there
/// (`dir://`), and the uploader sends the tarball to a URL; the driver then fetches it.
/// build-service implements this with artifact-service (a presigned GET of the staged context, or
/// a GET from artifact-service itself with the upload token where the store has no presigned
/// URLs; a PUT of the tarball with the upload token).
public protocol KanikoTransfer: Sendable {
    /// Makes the context folder (the Dockerfile in it) readable by the pod as a `.tar.gz`; returns where from.
    func stageContext(directory: String, name: String) async throws -> KanikoContextSource
    /// Where the pod's uploader sends the tarball.
    func outputUploadURL(name: String) async throws -> String
    /// Brings the uploaded tarball to `path`.
    func fetchOutput(name: String, to path: String) async throws
    /// Removes what the build left in transit (best effort).
    func cleanUp(name: String) async
}

/// Where the pod downloads the context tarball (`.tar.gz`) from, over http or https.
public struct KanikoContextSource: Sendable, Equatable {
    public let url: String
    /// The download presents the upload token (artifact-service's own URL); false for a presigned URL.
    public let presentsToken: Bool

    public init(url: String, presentsToken: Bool) {
        self.url = url
        self.presentsToken = presentsToken
    }
}
