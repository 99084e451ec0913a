import BuildDrivers
import Foundation
import Processes
import ServiceKit
import StageClients

/// `KanikoTransfer` through artifact-service: the context folder is packed and stored under
/// `kaniko/<name>/context.tar.gz`, and the pod's init container downloads it through a presigned
/// URL (S3 store, http or https), or, where the store has none (filesystem backend), from
/// artifact-service itself with the upload token; the pod PUTs the tarball to
/// `kaniko/<name>/image.tar` with the upload token, which build-service then downloads. Both are
/// deleted after the build.
struct ArtifactKanikoTransfer: KanikoTransfer {
    let artifacts: ArtifactServiceClient
    /// artifact-service as the pods reach it (its in-cluster Service), for the upload.
    let podArtifacts: ArtifactServiceClient
    let workDirectory: String

    func stageContext(directory: String, name: String) async throws -> KanikoContextSource {
        let archive = "\(workDirectory)/\(name)-context.tar.gz"
        defer { try? FileManager.default.removeItem(atPath: archive) }
        let result = try await ChildProcess.run(
            ProcessSpec("/bin/tar", ["-C", directory, "-czf", archive, "."], timeout: .seconds(600)))
        guard result.succeeded else {
            throw RunFailure(code: "CONTEXT_INVALID", message: "packing the context for the cluster failed", retryable: false)
        }
        let key = "kaniko/\(name)/context.tar.gz"
        _ = try await artifacts.upload(file: archive, as: key, contentType: "application/gzip")
        do {
            return KanikoContextSource(url: try await artifacts.presignedURL(for: key, expires: .seconds(3600)), presentsToken: false)
        } catch let failure as RunFailure where failure.code == "PRESIGN_UNSUPPORTED" {
            return KanikoContextSource(url: podArtifacts.uploadURL(for: key), presentsToken: true)
        }
    }

    func outputUploadURL(name: String) async throws -> String {
        podArtifacts.uploadURL(for: "kaniko/\(name)/image.tar")
    }

    func fetchOutput(name: String, to path: String) async throws {
        try await artifacts.download("kaniko/\(name)/image.tar", to: path)
    }

    func cleanUp(name: String) async {
        for key in ["kaniko/\(name)/context.tar.gz", "kaniko/\(name)/image.tar"] {
            try? await artifacts.delete(key)
        }
    }
}
