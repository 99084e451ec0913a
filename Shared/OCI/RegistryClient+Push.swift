import Foundation
import HTTPClient
import Logging

extension RegistryClient {
    /// Pushes the image of a docker-archive: each blob the repository lacks
    /// (asked with `HEAD`) is mounted from `mountFrom` repositories of the same
    /// registry when they have it, else uploaded from its region of the archive
    /// file; then the manifest is put under the destination's tag.
    ///
    /// Cancelling the task stops the push between requests and aborts a running upload.
    public func push(
        archive: DockerArchive, to destination: OCIReference, mountFrom: [String] = [],
        progress: @escaping @Sendable (PushEvent) -> Void = { _ in }
    ) async throws -> PushResult {
        let manifest = try ImageManifest(archive: archive, format: configuration.manifestFormat)
        if let digest = destination.digest, digest != manifest.digest {
            throw RegistryError(
                code: "DIGEST_INVALID", status: nil, message: "the archive's manifest digest is \(manifest.digest)",
                operation: "push \(destination)")
        }
        let target = Target(destination, client: self)
        let sources = mountFrom.filter { $0 != destination.repository }
        let scopes = target.pushScope + sources.map { "repository:\($0):pull" }
        let blobs = Self.blobs(of: archive)
        let upload = BlobUpload(
            target: target, scopes: scopes, mountFrom: sources, chunkSize: configuration.chunkSize, progress: progress)

        var tally = (uploaded: 0, skipped: 0, mounted: 0, bytes: Int64(0))
        try await withThrowingTaskGroup(of: BlobUpload.Outcome.self) { group in
            var queue = blobs.makeIterator()
            for _ in 0..<max(1, configuration.maxConcurrentUploads) {
                guard let blob = queue.next() else { break }
                group.addTask { try await upload.push(blob) }
            }
            while let outcome = try await group.next() {
                switch outcome {
                case .skipped: tally.skipped += 1
                case .mounted: tally.mounted += 1
                case .uploaded(let size):
                    tally.uploaded += 1
                    tally.bytes += size
                }
                if let blob = queue.next() { group.addTask { try await upload.push(blob) } }
            }
        }

        let manifestReference = destination.tag ?? (destination.digest == nil ? "latest" : manifest.digest)
        let operation = "PUT manifest \(manifestReference)"
        let response = try await target.send(
            "PUT", "/manifests/\(manifestReference)", headers: ["Content-Type": manifest.mediaType],
            body: .bytes(manifest.bytes), scopes: scopes, operation: operation)
        guard response.status == 201 || response.status == 200 else {
            throw target.failure(response, operation: operation)
        }
        if let stored = response.headers["Docker-Content-Digest"], stored != manifest.digest {
            throw RegistryError(
                code: "DIGEST_INVALID", status: response.status,
                message: "the registry stored the manifest as \(stored), not \(manifest.digest)", operation: operation)
        }
        progress(.manifestPushed(digest: manifest.digest, reference: manifestReference))
        logger.info(
            "image pushed",
            metadata: [
                "reference": "\(destination)", "digest": "\(manifest.digest)", "blobs.uploaded": "\(tally.uploaded)",
                "blobs.skipped": "\(tally.skipped)", "blobs.mounted": "\(tally.mounted)", "bytes": "\(tally.bytes)",
            ])
        return PushResult(
            reference: try OCIReference(
                registry: destination.registry, repository: destination.repository,
                tag: destination.digest == nil ? manifestReference : destination.tag, digest: manifest.digest),
            manifestDigest: manifest.digest, manifestMediaType: manifest.mediaType, manifestSize: manifest.bytes.count,
            bytesUploaded: tally.bytes, blobsUploaded: tally.uploaded, blobsSkipped: tally.skipped,
            blobsMounted: tally.mounted)
    }

    /// Config and layers, each digest once (an image may repeat a layer).
    private static func blobs(of archive: DockerArchive) -> [BlobUpload.Blob] {
        var seen: Set<String> = []
        var blobs: [BlobUpload.Blob] = []
        for layer in archive.layers where seen.insert(layer.digest).inserted {
            blobs.append(
                .init(digest: layer.digest, size: layer.size, source: .file(path: archive.path, offset: layer.offset)))
        }
        if seen.insert(archive.config.digest).inserted {
            blobs.append(
                .init(
                    digest: archive.config.digest, size: Int64(archive.config.bytes.count),
                    source: .bytes(archive.config.bytes)))
        }
        return blobs
    }
}

/// Puts one blob into the target repository, unless it is there already.
struct BlobUpload: Sendable {
    struct Blob: Sendable {
        enum Source: Sendable {
            case bytes([UInt8])
            case file(path: String, offset: Int64)
        }
        let digest: String
        let size: Int64
        let source: Source

        func body(from start: Int64 = 0, length: Int64? = nil) -> ClientRequestBody {
            let length = length ?? (size - start)
            switch source {
            case .bytes(let bytes): return .bytes(Array(bytes[Int(start)..<Int(start + length)]))
            case .file(let path, let offset): return .file(path: path, offset: offset + start, length: length)
            }
        }
    }

    enum Outcome: Sendable {
        case skipped
        case mounted
        case uploaded(Int64)
    }

    let target: Target
    let scopes: [String]
    let mountFrom: [String]
    let chunkSize: Int64?
    let progress: @Sendable (PushEvent) -> Void

    func push(_ blob: Blob) async throws -> Outcome {
        if try await target.blobExists(blob.digest, scopes: scopes) {
            progress(.blobSkipped(digest: blob.digest, size: blob.size))
            return .skipped
        }
        let location: String
        switch try await startUpload(blob) {
        case .mounted(let source):
            progress(.blobMounted(digest: blob.digest, size: blob.size, from: source))
            return .mounted
        case .session(let url):
            location = url
        }
        progress(.blobUploadStarted(digest: blob.digest, size: blob.size))
        if let chunkSize, chunkSize > 0, blob.size > chunkSize {
            try await uploadChunks(blob, to: location, chunkSize: chunkSize)
        } else {
            try await finish(blob, at: location, body: blob.body())
        }
        progress(.blobUploaded(digest: blob.digest, size: blob.size))
        target.client.logger.debug(
            "blob uploaded",
            metadata: [
                "repository": "\(target.reference.repository)", "digest": "\(blob.digest)", "bytes": "\(blob.size)",
            ])
        return .uploaded(blob.size)
    }

    private enum Start {
        case mounted(from: String)
        case session(String)
    }

    /// `POST …/blobs/uploads/`, first as a mount from each candidate repository.
    private func startUpload(_ blob: Blob) async throws -> Start {
        let operation = "start upload of \(blob.digest)"
        for (index, source) in mountFrom.enumerated() {
            let query = RegistryAuth.formEncode([("mount", blob.digest), ("from", source)])
            let response = try await target.send(
                "POST", "/blobs/uploads/?\(query)", scopes: scopes, operation: operation)
            if response.status == 201 { return .mounted(from: source) }
            guard response.status == 202, let location = response.headers["Location"] else {
                throw target.failure(response, operation: operation)
            }
            // Not mountable from there: the registry opened a plain upload instead.
            if index == mountFrom.count - 1 { return .session(target.absolute(location)) }
            _ = try? await target.send("DELETE", target.absolute(location), scopes: scopes, operation: operation)
        }
        let response = try await target.send("POST", "/blobs/uploads/", scopes: scopes, operation: operation)
        guard response.status == 202, let location = response.headers["Location"] else {
            throw target.failure(response, operation: operation)
        }
        return .session(target.absolute(location))
    }

    private func uploadChunks(_ blob: Blob, to start: String, chunkSize: Int64) async throws {
        var location = start
        var sent: Int64 = 0
        while sent < blob.size {
            let length = min(chunkSize, blob.size - sent)
            let operation = "upload \(blob.digest) bytes \(sent)-\(sent + length - 1)"
            let response = try await target.send(
                "PATCH", location,
                headers: ["Content-Type": "application/octet-stream", "Content-Range": "\(sent)-\(sent + length - 1)"],
                body: blob.body(from: sent, length: length), scopes: scopes, operation: operation)
            guard response.status == 202, let next = response.headers["Location"] else {
                throw target.failure(response, operation: operation)
            }
            location = target.absolute(next)
            sent += length
            progress(.blobUploadProgress(digest: blob.digest, sent: sent, size: blob.size))
        }
        try await finish(blob, at: location, body: .none)
    }

    /// The closing `PUT <location>&digest=…`, with the whole blob or (after chunks) nothing.
    private func finish(_ blob: Blob, at location: String, body: ClientRequestBody) async throws {
        let operation = "upload \(blob.digest)"
        let url = location + (location.contains("?") ? "&" : "?") + RegistryAuth.formEncode([("digest", blob.digest)])
        let response = try await target.send(
            "PUT", url, headers: ["Content-Type": "application/octet-stream"], body: body, scopes: scopes,
            operation: operation)
        guard response.status == 201 else { throw target.failure(response, operation: operation) }
    }
}
