import ArtifactAPI
import HTTPTypes
import Logging
import OpenAPIRuntime
import Records
import ServiceKit

extension ArtifactHandlers {
    /// The bytes, whole or one `Range`, streamed as the store gives them, as the recorded media type.
    func getArtifact(_ input: Operations.GetArtifact.Input) async throws -> Operations.GetArtifact.Output {
        let (key, record, range) = try await served(input.path.key, range: input.headers.range)
        let stream = try await answeringStoreErrors { try await backend.read(key, range: range.map { $0.first...$0.last }) }
        guard let stream else { throw ServiceError.notFound("no artifact \(key)") }
        try checkStored(size: stream.totalSize, of: key, against: record)
        let length = range?.length ?? record.size
        let body = HTTPBody(
            ExactLengthChunks(chunks: stream.chunks, length: length), length: .known(length), iterationBehavior: .single)
        ArtifactMediaType.answer?.send(record.mediaType)
        guard let range else {
            return .ok(.init(headers: .init(eTag: record.eTag, xChecksumSha256: record.sha256, acceptRanges: "bytes"), body: .any(body)))
        }
        return .partialContent(
            .init(
                headers: .init(
                    contentRange: range.contentRange(of: record.size), eTag: record.eTag, xChecksumSha256: record.sha256,
                    acceptRanges: "bytes"),
                body: .any(body)))
    }

    /// What `GET` would say, without the body: the stored object's size is checked the same way.
    func headArtifact(_ input: Operations.HeadArtifact.Input) async throws -> Operations.HeadArtifact.Output {
        let (key, record, range) = try await served(input.path.key, range: input.headers.range)
        let size = try await answeringStoreErrors { try await backend.size(of: key) }
        try checkStored(size: size, of: key, against: record)
        ArtifactMediaType.answer?.send(record.mediaType)
        guard let range else {
            return .ok(
                .init(
                    headers: .init(
                        contentLength: Int(record.size), eTag: record.eTag, xChecksumSha256: record.sha256,
                        acceptRanges: "bytes")))
        }
        return .partialContent(
            .init(
                headers: .init(
                    contentLength: Int(range.length), contentRange: range.contentRange(of: record.size), eTag: record.eTag,
                    xChecksumSha256: record.sha256, acceptRanges: "bytes")))
    }

    /// The key, its record and the range asked for (nil: whole); 400, 404 or 416 otherwise.
    private func served(_ text: String, range header: String?) async throws -> (ArtifactKey, ArtifactRecord, ByteRange?) {
        let key = try ArtifactKey(text)
        let record = try await record(of: key)
        let range = try header.flatMap { try ByteRange(header: $0, size: record.size) }
        return (key, record, range)
    }

    /// Content-Length comes from the record: an object of another size (changed or lost behind
    /// the index's back) would leave a client waiting for bytes that never come, so it is
    /// refused before the headers go out.
    private func checkStored(size: Int64?, of key: ArtifactKey, against record: ArtifactRecord) throws {
        guard let size else { throw ServiceError.notFound("no artifact \(key)") }
        guard size == record.size else {
            requestLogger.error(
                "stored object differs from its record",
                metadata: ["key": "\(key)", "stored": "\(size)", "recorded": "\(record.size)"])
            throw ServiceError(
                .serviceUnavailable, code: "STORE_INCONSISTENT",
                detail: "the stored object has \(size) bytes, the record \(record.size); it is not served")
        }
    }
}

extension ArtifactRecord {
    var eTag: String { "\"\(sha256)\"" }
}

extension ByteRange {
    func contentRange(of size: Int64) -> String { "bytes \(first)-\(last)/\(size)" }
}
