import Digests
import Foundation
import HTTPClient
import Logging

/// CreateMultipartUpload, UploadPart with a bounded number of parts in
/// memory, CompleteMultipartUpload; AbortMultipartUpload on any failure or
/// cancellation, so no parts and no partial object are left behind.
///
/// Every part carries its SHA-256 (S3's composite `SHA256` checksum): S3
/// refuses a part whose bytes do not match it, and an upload that declares
/// its checksum algorithm is completed without S3 computing a checksum of
/// the whole object (the local S3, moto, otherwise copies all parts once more
/// to do so, which doubled the time CompleteMultipartUpload took).
extension S3Client {
    struct CompletedPart: Sendable {
        let number: Int
        let etag: String
        /// Base64, as S3 wants it.
        let checksumSHA256: String
    }

    /// With `expectedSHA256`, a source whose digest differs is aborted, not completed.
    func uploadMultipart(
        key: String, headers: HTTPHeaders, reader: some PartReader, expectedSHA256: String? = nil
    ) async throws -> S3PutResult {
        var headers = headers
        headers.add("x-amz-checksum-algorithm", "SHA256")
        let uploadID = try await createMultipartUpload(key: key, headers: headers)
        await tell("started") { try await $0.started(key: key, uploadID: uploadID) }
        defer { tellEnded(key: key, uploadID: uploadID) }
        do {
            let parts = try await uploadParts(key: key, uploadID: uploadID, reader: reader)
            // Cancelled after the last part: still nothing may be stored.
            try Task.checkCancellation()
            let (sha256, size) = reader.digest.finish()
            try Self.verify(sha256, expected: expectedSHA256)
            let etag = try await completeMultipartUpload(key: key, uploadID: uploadID, parts: parts)
            logger.debug(
                "multipart upload complete",
                metadata: ["s3.key": "\(key)", "s3.parts": "\(parts.count)", "s3.bytes": "\(size)"])
            return S3PutResult(key: key, size: size, sha256: sha256, etag: etag, partCount: parts.count)
        } catch {
            await abortBestEffort(key: key, uploadID: uploadID)
            throw error
        }
    }

    /// Reads the next part only once fewer than `maxPartsInFlight` are being
    /// sent, so at most that many parts are in memory (file parts never are).
    private func uploadParts(key: String, uploadID: String, reader: some PartReader) async throws -> [CompletedPart] {
        let limit = configuration.maxPartsInFlight
        return try await withThrowingTaskGroup(of: CompletedPart.self) { group in
            var completed: [CompletedPart] = []
            var inFlight = 0
            var number = 0
            while true {
                if inFlight >= limit, let part = try await group.next() {
                    completed.append(part)
                    inFlight -= 1
                }
                guard let part = try await reader.nextPart() else { break }
                number += 1
                guard number <= S3Configuration.maximumPartCount else {
                    throw S3ClientError.tooManyParts(partSize: part.count)
                }
                group.addTask { [number] in
                    try await uploadPart(key: key, uploadID: uploadID, number: number, part: part)
                }
                inFlight += 1
            }
            while let part = try await group.next() { completed.append(part) }
            return completed.sorted { $0.number < $1.number }
        }
    }

    private func createMultipartUpload(key: String, headers: HTTPHeaders) async throws -> String {
        let response = try await performCollecting(
            Operation(method: "POST", key: key, query: [("uploads", "")], headers: headers))
        return try S3ResponseParser.uploadID(response.body)
    }

    /// Hashes the part here, in the part's own task: beside the reader, not in its way.
    private func uploadPart(key: String, uploadID: String, number: Int, part: PartData) async throws -> CompletedPart {
        let checksum = Data(try part.sha256().bytes).base64EncodedString()
        let response = try await performCollecting(
            Operation(
                method: "PUT", key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)],
                headers: ["x-amz-checksum-sha256": checksum], body: .request(part.body), payload: .unsigned))
        guard let etag = response.headers["ETag"] else {
            throw S3ClientError.invalidResponse("UploadPart \(number) of \(key) answered without an ETag")
        }
        return CompletedPart(number: number, etag: etag, checksumSHA256: checksum)
    }

    private func completeMultipartUpload(key: String, uploadID: String, parts: [CompletedPart]) async throws -> String {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for part in parts {
            xml += "<Part><ChecksumSHA256>\(part.checksumSHA256)</ChecksumSHA256>"
            xml += "<ETag>\(XMLText.escape(part.etag))</ETag><PartNumber>\(part.number)</PartNumber></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let body = Array(xml.utf8)
        let operation = Operation(
            method: "POST", key: key, query: [("uploadId", uploadID)], headers: ["Content-Type": "application/xml"],
            body: .bytes(body), payload: .bytes(body), retryNonIdempotent: true)
        // S3 may answer 200 and put an error in the body; InternalError there is worth a retry.
        var attempt = 1
        while true {
            let response = try await performCollecting(operation)
            do {
                return try S3ResponseParser.completedETag(response.body, key: key) ?? response.headers["ETag"] ?? ""
            } catch let error as S3Error where error.isTransient && attempt < 3 {
                logger.notice(
                    "retrying CompleteMultipartUpload", metadata: ["s3.key": "\(key)", "s3.code": "\(error.code)"])
                attempt += 1
                try await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
    }

    public func abortMultipartUpload(key: String, uploadID: String) async throws {
        _ = try await performCollecting(Operation(method: "DELETE", key: key, query: [("uploadId", uploadID)]))
    }

    private func tell(_ what: String, _ call: (any MultipartUploadObserver) async throws -> Void) async {
        guard let observer else { return }
        do {
            try await call(observer)
        } catch {
            logger.warning("multipart upload observer failed", metadata: ["event": "\(what)", "error": "\(error)"])
        }
    }

    /// Completed or aborted: told from a task of its own, which a cancelled upload's
    /// cancellation does not reach.
    private func tellEnded(key: String, uploadID: String) {
        guard observer != nil else { return }
        let client = self
        Task { await client.tell("ended") { try await $0.ended(key: key, uploadID: uploadID) } }
    }

    /// Runs in a task of its own so that it also happens when the upload was cancelled.
    private func abortBestEffort(key: String, uploadID: String) async {
        let client = self
        let abort = Task { try await client.abortMultipartUpload(key: key, uploadID: uploadID) }
        do {
            try await abort.value
            logger.debug("aborted multipart upload", metadata: ["s3.key": "\(key)"])
        } catch {
            logger.warning(
                "could not abort multipart upload",
                metadata: ["s3.key": "\(key)", "s3.upload_id": "\(uploadID)", "error": "\(error)"])
        }
    }
}
