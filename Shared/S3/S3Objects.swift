import HTTPClient

/// What an upload stored.
public struct S3PutResult: Sendable {
    public let key: String
    public let size: Int64
    /// SHA-256 of the bytes sent, computed while they streamed.
    public let sha256: String
    public let etag: String
    /// Parts of the multipart upload; 0 for a single PUT.
    public let partCount: Int
}

public struct S3ObjectHead: Sendable {
    public let size: Int64
    public let etag: String?
    public let contentType: String?
    public let lastModified: String?
    /// User metadata (`x-amz-meta-*`), names lowercased and without the prefix.
    public let metadata: [String: String]

    init(headers: HTTPHeaders) {
        size = headers["Content-Length"].flatMap { Int64($0) } ?? 0
        etag = headers["ETag"]
        contentType = headers["Content-Type"]
        lastModified = headers["Last-Modified"]
        var metadata: [String: String] = [:]
        for field in headers where field.name.lowercased().hasPrefix("x-amz-meta-") {
            metadata[String(field.name.lowercased().dropFirst("x-amz-meta-".count))] = field.value
        }
        self.metadata = metadata
    }
}

/// An object whose body is still arriving; read `body` once, or cancel it.
public struct S3ObjectStream: Sendable {
    /// 200, or 206 for a range.
    public let status: Int
    public let headers: HTTPHeaders
    public let body: ClientResponseBody
    public var head: S3ObjectHead { S3ObjectHead(headers: headers) }
    /// Bytes in this response (the range's length for a range).
    public var contentLength: Int64? { headers["Content-Length"].flatMap { Int64($0) } }
}

public struct S3ObjectSummary: Sendable, Equatable {
    public let key: String
    public let size: Int64
    public let etag: String?
    public let lastModified: String?
}

/// One page of ListObjectsV2.
public struct S3ObjectList: Sendable {
    public let objects: [S3ObjectSummary]
    public let isTruncated: Bool
    /// Pass to the next `listObjects` call to get the next page.
    public let nextContinuationToken: String?
}

/// A multipart upload that was started and neither completed nor aborted.
public struct S3MultipartUploadSummary: Sendable, Equatable {
    public let key: String
    public let uploadID: String
    public let initiated: String?
}
