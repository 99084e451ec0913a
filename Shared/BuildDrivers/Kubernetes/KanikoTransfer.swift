/// How a build's files cross into and out of the cluster: the pod reads the context from a
/// URL Kaniko's `--context` accepts and uploads the tarball to a URL; the driver then fetches
/// it. build-service implements this with artifact-service (a presigned GET of the staged
/// context, a PUT of the tarball with an upload token).
public protocol KanikoTransfer: Sendable {
    /// Makes the context folder (the Dockerfile in it) readable by the pod; returns the URL for `--context`.
    func stageContext(directory: String, name: String) async throws -> String
    /// Where the pod's uploader sends the tarball.
    func outputUploadURL(name: String) async throws -> String
    /// Brings the uploaded tarball to `path`.
    func fetchOutput(name: String, to path: String) async throws
    /// Removes what the build left in transit (best effort).
    func cleanUp(name: String) async
}
