import Foundation
import HTTPClient
import S3

/// Artifacts as objects of one S3 bucket, uploaded from the spooled file
/// (multipart above the client's threshold; aborted on failure).
struct S3Backend: ArtifactBackend {
    let client: S3Client
    let spoolDirectory: String

    func store(_ file: SpooledFile, as key: ArtifactKey, mediaType: String) async throws {
        defer { file.remove() }
        let result = try await client.putObject(
            key: key.value, file: file.path, contentType: mediaType, metadata: ["sha256": file.sha256])
        guard result.sha256 == file.sha256 else {
            try? await client.deleteObject(key: key.value)
            throw S3BackendError.changedWhileUploading(key.value)
        }
    }

    func read(_ key: ArtifactKey, range: ClosedRange<Int64>?) async throws -> ArtifactStream? {
        guard let head = try await client.headObject(key: key.value) else { return nil }
        guard head.size > 0 else { return ArtifactStream(totalSize: 0, chunks: .empty) }
        let clamped = range.map { $0.lowerBound...min($0.upperBound, head.size - 1) }
        let object = try await client.getObject(key: key.value, range: clamped)
        let body = object.body
        // Pulled straight from the response: libcurl pauses while the reader is behind.
        let chunks = ChunkSequence {
            var iterator = body.makeAsyncIterator()
            return { try await iterator.next() }
        }
        return ArtifactStream(totalSize: head.size, chunks: chunks)
    }

    func size(of key: ArtifactKey) async throws -> Int64? {
        try await client.headObject(key: key.value)?.size
    }

    func delete(_ key: ArtifactKey) async throws {
        try await client.deleteObject(key: key.value)
    }

    func presignedURL(for key: ArtifactKey, expires: Duration) throws -> String? {
        try client.presignedGetURL(key: key.value, expires: expires)
    }
}

enum S3BackendError: Error, CustomStringConvertible {
    case changedWhileUploading(String)

    var description: String {
        switch self {
        case .changedWhileUploading(let key): "the spooled upload for \(key) changed while it was sent"
        }
    }
}
