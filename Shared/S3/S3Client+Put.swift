import Digests
import HTTPClient

extension S3Client {
    /// Uploads a file, as one PUT below the multipart threshold (streamed
    /// from disk) or as a multipart upload at or above it.
    public func putObject(
        key: String, file path: String, contentType: String? = nil, metadata: [String: String] = [:]
    )
        async throws -> S3PutResult
    {
        try Self.validate(key: key)
        let size = try FileReader.size(of: path)
        let headers = objectHeaders(contentType: contentType, metadata: metadata)
        guard size < configuration.multipartThreshold else {
            let reader = try FilePartReader(path: path, size: size, partSize: partSize(for: size))
            return try await uploadMultipart(key: key, headers: headers, reader: reader)
        }
        let digests = LatestDigest()
        let response = try await performCollecting(
            Operation(
                method: "PUT", key: key, headers: headers,
                body: .oneShot {
                    .stream(
                        ClientBodyStream(FileChunks(path: path, length: size, digest: digests.begin())), length: size)
                },
                payload: .unsigned))
        guard let digest = digests.current?.finish(), digest.count == size else {
            throw S3ClientError.unreadableFile(path: path, reason: "the upload did not read the whole file")
        }
        return S3PutResult(key: key, size: size, sha256: digest.hex, etag: response.headers["ETag"] ?? "", partCount: 0)
    }

    public func putObject(
        key: String, bytes: [UInt8], contentType: String? = nil, metadata: [String: String] = [:]
    )
        async throws -> S3PutResult
    {
        try Self.validate(key: key)
        let headers = objectHeaders(contentType: contentType, metadata: metadata)
        guard Int64(bytes.count) < configuration.multipartThreshold else {
            let reader = BytesPartReader(bytes: bytes, partSize: partSize(for: Int64(bytes.count)))
            return try await uploadMultipart(key: key, headers: headers, reader: reader)
        }
        let response = try await performCollecting(
            Operation(method: "PUT", key: key, headers: headers, body: .bytes(bytes), payload: .unsigned))
        return S3PutResult(
            key: key, size: Int64(bytes.count), sha256: SHA256.hash(bytes).hex, etag: response.headers["ETag"] ?? "",
            partCount: 0)
    }

    /// Uploads chunks of unknown total length. Up to the multipart threshold
    /// is held in memory: a stream that ends before it goes up as one PUT,
    /// a longer one as a multipart upload with those bytes as its first parts.
    /// An error thrown by `stream` is rethrown after the upload is aborted.
    /// With `expectedSHA256` (hex), the object is stored only if the stream's
    /// SHA-256 is that one: otherwise the single PUT is not sent, or the
    /// multipart upload is aborted instead of completed, and
    /// `S3ClientError.digestMismatch` is thrown.
    public func putObject<Chunks: AsyncSequence>(
        key: String, stream: Chunks, contentType: String? = nil, metadata: [String: String] = [:],
        expectedSHA256: String? = nil
    ) async throws -> S3PutResult where Chunks.Element == [UInt8] {
        try Self.validate(key: key)
        let headers = objectHeaders(contentType: contentType, metadata: metadata)
        let reader = StreamPartReader(stream.makeAsyncIterator(), partSize: configuration.partSize)
        var buffered: [[UInt8]] = []
        var total: Int64 = 0
        while total < configuration.multipartThreshold, let part = try await reader.nextBytes() {
            buffered.append(part)
            total += Int64(part.count)
        }
        guard total < configuration.multipartThreshold else {
            // The reader hands these out first and lets go of each once it is sent.
            reader.unread(buffered)
            buffered = []
            return try await uploadMultipart(key: key, headers: headers, reader: reader, expectedSHA256: expectedSHA256)
        }
        let (sha256, size) = reader.digest.finish()
        try Self.verify(sha256, expected: expectedSHA256)
        let body: Operation.Body
        if buffered.count <= 1 {
            body = .bytes(buffered.first ?? [])
        } else {
            // Several parts: sent as a stream of them rather than copied into one array.
            let chunks = BufferedChunks(parts: buffered)
            let length = total
            body = .oneShot { .stream(ClientBodyStream(chunks), length: length) }
        }
        let response = try await performCollecting(
            Operation(method: "PUT", key: key, headers: headers, body: body, payload: .unsigned))
        return S3PutResult(key: key, size: size, sha256: sha256, etag: response.headers["ETag"] ?? "", partCount: 0)
    }

    static func verify(_ sha256: String, expected: String?) throws(S3ClientError) {
        if let expected, expected.lowercased() != sha256 { throw .digestMismatch(expected: expected, actual: sha256) }
    }

    private func objectHeaders(contentType: String?, metadata: [String: String]) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add("Content-Type", contentType ?? "application/octet-stream")
        for (name, value) in metadata.sorted(by: { $0.key < $1.key }) {
            headers.add("x-amz-meta-\(name.lowercased())", value)
        }
        return headers
    }

    /// The configured part size, grown (in whole MiB) when the object would
    /// otherwise need more than 10,000 parts.
    func partSize(for size: Int64) -> Int {
        let needed = (size + Int64(S3Configuration.maximumPartCount) - 1) / Int64(S3Configuration.maximumPartCount)
        let rounded = ((needed + (1 << 20) - 1) >> 20) << 20
        return max(configuration.partSize, Int(rounded))
    }
}
