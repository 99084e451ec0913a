import Foundation
import HTTPClient
import S3

/// Artifacts as objects of one S3 bucket. An upload goes to S3 as it
/// arrives: one PUT when it is smaller than a part, otherwise a multipart
/// upload with at most `maxPartsInFlight` parts in memory, completed only when
/// the whole body came and its digest is the expected one, aborted otherwise.
///
/// The client's media type is metadata, kept in the index only: S3 is always sent
/// `application/octet-stream`. A server that reads the body by its type (moto's,
/// through werkzeug, takes an `application/x-www-form-urlencoded` or `multipart/form-data`
/// PUT body as a form and stores zero bytes) must never get to choose. What the store
/// kept is checked against what was sent before the upload counts as done.
struct S3Backend: ArtifactBackend {
    let client: S3Client
    let spoolDirectory: String

    static let objectContentType = "application/octet-stream"

    func store(
        _ chunks: ChunkSequence, as key: ArtifactKey, mediaType: String, expectedSHA256: String?
    ) async throws -> StoredContent {
        let result: S3PutResult
        do {
            // The digest is only known before the upload starts when the client named it.
            result = try await client.putObject(
                key: key.value, stream: chunks, contentType: Self.objectContentType,
                metadata: expectedSHA256.map { ["sha256": $0] } ?? [:], expectedSHA256: expectedSHA256)
        } catch S3ClientError.digestMismatch(let expected, let actual) {
            throw ArtifactUploadError.digestMismatch(expected: expected, actual: actual)
        }
        let stored = try await client.headObject(key: key.value)?.size
        guard stored == result.size else {
            try? await client.deleteObject(key: key.value)
            throw ArtifactUploadError.notKept(sent: result.size, stored: stored)
        }
        return StoredContent(size: result.size, sha256: result.sha256)
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
