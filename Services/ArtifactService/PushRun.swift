import ArtifactAPI
import Foundation
import HTTPClient
import OCI
import Records
import ServiceKit
import StageClients
import StageRuns

/// A push run: a stored docker-archive tarball, fetched to a local file, pushed to a registry
/// (blobs it has skipped, the others uploaded, then the manifest), its progress logged.
struct PushRun: Sendable {
    let backend: any ArtifactBackend
    let registry: RegistryClient

    func perform(_ key: ArtifactKey, to destination: OCIReference, log: RunLog) async throws -> Components.Schemas.PushResult {
        await log.line("fetching \(key)")
        let file = try await download(key)
        defer { file.remove() }
        let archive: DockerArchive
        do {
            archive = try await DockerArchive.open(path: file.path)
        } catch {
            throw RunFailure(code: "ARTIFACT_INVALID", message: "\(key) is not a docker-archive tarball: \(error)", retryable: false)
        }
        await log.line("pushing \(archive.layers.count) layers to \(Self.name(destination))")
        let (events, sink) = AsyncStream<PushEvent>.makeStream()
        let recorder = Task {
            for await event in events { await log.line(Self.describe(event)) }
        }
        defer { recorder.cancel() }
        do {
            let result = try await registry.push(archive: archive, to: destination) { sink.yield($0) }
            sink.finish()
            await recorder.value
            await log.line("pushed \(result.manifestDigest)")
            return .init(
                destination: Self.name(destination), manifestDigest: result.manifestDigest,
                reference: "\(destination.registry)/\(destination.repository)@\(result.manifestDigest)",
                blobsUploaded: result.blobsUploaded,
                blobsSkipped: result.blobsSkipped, bytesUploaded: result.bytesUploaded)
        } catch let error as RegistryError {
            sink.finish()
            let denied = ["DENIED", "UNAUTHORIZED"].contains(error.code)
            throw RunFailure(
                code: denied ? "PUSH_DENIED" : "PUSH_FAILED", message: error.description,
                retryable: !denied && (error.status ?? 500) >= 500)
        } catch let error as HTTPClientError {
            sink.finish()
            throw RunFailure(code: "REGISTRY_UNAVAILABLE", message: error.description, retryable: error.isTransient)
        }
    }

    /// The artifact as a local file (the push reads layers from file regions).
    private func download(_ key: ArtifactKey) async throws -> SpooledFile {
        guard let stream = try await backend.read(key, range: nil) else {
            throw RunFailure(code: "ARTIFACT_NOT_FOUND", message: "no artifact \(key)", retryable: false)
        }
        try FileManager.default.createDirectory(atPath: backend.spoolDirectory, withIntermediateDirectories: true)
        let path = "\(backend.spoolDirectory)/push-\(UUID().uuidString).tar"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw RunFailure(code: "STORE_UNAVAILABLE", message: "cannot write a temporary file", retryable: true)
        }
        defer { try? handle.close() }
        do {
            for try await chunk in stream.chunks { try handle.write(contentsOf: chunk) }
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw RunFailure(code: "STORE_UNAVAILABLE", message: "reading \(key) failed", retryable: true)
        }
        return SpooledFile(path: path, size: stream.totalSize, sha256: "")
    }

    /// `registry/repository:tag` (or `@digest`), as the caller wrote it but normalized.
    static func name(_ reference: OCIReference) -> String {
        let suffix = reference.digest.map { "@\($0)" } ?? ":\(reference.tag ?? "latest")"
        return "\(reference.registry)/\(reference.repository)\(suffix)"
    }

    static func describe(_ event: PushEvent) -> String {
        switch event {
        case .blobSkipped(let digest, _): "blob \(digest) already present"
        case .blobMounted(let digest, _, let from): "blob \(digest) mounted from \(from)"
        case .blobUploadStarted(let digest, let size): "uploading blob \(digest) (\(size) bytes)"
        case .blobUploadProgress(let digest, let sent, let size): "blob \(digest): \(sent)/\(size) bytes"
        case .blobUploaded(let digest, let size): "uploaded blob \(digest) (\(size) bytes)"
        case .manifestPushed(let digest, _): "manifest \(digest) pushed"
        }
    }
}
