import Foundation
import HTTPClient

extension S3Client {
    /// Streams an object, or the bytes of `range` (inclusive offsets) of it.
    public func getObject(key: String, range: ClosedRange<Int64>? = nil) async throws -> S3ObjectStream {
        try Self.validate(key: key)
        var headers = HTTPHeaders()
        if let range { headers.add("Range", "bytes=\(range.lowerBound)-\(range.upperBound)") }
        let response = try await perform(Operation(method: "GET", key: key, headers: headers))
        return S3ObjectStream(status: response.status, headers: response.headers, body: response.body)
    }

    /// The object's size and metadata; nil when there is no such object.
    public func headObject(key: String) async throws -> S3ObjectHead? {
        try Self.validate(key: key)
        do {
            let response = try await perform(Operation(method: "HEAD", key: key))
            return S3ObjectHead(headers: response.headers)
        } catch let error as S3Error where error.status == 404 {
            return nil
        }
    }

    /// Deletes the object; deleting a missing key succeeds, as in S3.
    public func deleteObject(key: String) async throws {
        try Self.validate(key: key)
        _ = try await performCollecting(Operation(method: "DELETE", key: key))
    }

    /// One page of ListObjectsV2 (at most 1000 keys, or `maxKeys`).
    public func listObjects(
        prefix: String? = nil, maxKeys: Int? = nil, continuationToken: String? = nil
    ) async throws
        -> S3ObjectList
    {
        var query: [(name: String, value: String)] = [("list-type", "2")]
        if let prefix { query.append(("prefix", prefix)) }
        if let maxKeys { query.append(("max-keys", String(maxKeys))) }
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        let response = try await performCollecting(Operation(method: "GET", query: query))
        return try S3ResponseParser.objectList(response.body)
    }

    /// Multipart uploads started under `prefix` and neither completed nor aborted.
    public func listMultipartUploads(prefix: String? = nil) async throws -> [S3MultipartUploadSummary] {
        var uploads: [S3MultipartUploadSummary] = []
        var markers: (key: String, uploadID: String?)? = nil
        repeat {
            var query: [(name: String, value: String)] = [("uploads", "")]
            if let prefix { query.append(("prefix", prefix)) }
            if let markers {
                query.append(("key-marker", markers.key))
                if let uploadID = markers.uploadID { query.append(("upload-id-marker", uploadID)) }
            }
            let response = try await performCollecting(Operation(method: "GET", query: query))
            let page = try S3ResponseParser.multipartUploads(response.body)
            uploads += page.uploads
            let next = page.nextKeyMarker.map { (key: $0, uploadID: page.nextUploadIDMarker) }
            // A server repeating its marker would otherwise keep this loop going.
            if let next, let markers, next.key == markers.key && next.uploadID == markers.uploadID { break }
            markers = next
        } while markers != nil
        return uploads
    }

    /// A URL anyone can GET the object with, without credentials, until it expires.
    public func presignedGetURL(key: String, expires: Duration = .seconds(3600), now: Date = Date()) throws -> String {
        try Self.validate(key: key)
        let seconds = Int(expires.components.seconds)
        guard (1...604_800).contains(seconds) else {
            throw S3ClientError.invalidArgument("a presigned URL lives 1 second to 7 days, not \(seconds) s")
        }
        let location = endpoint.location(bucket: configuration.bucket, key: key, style: configuration.addressingStyle)
        let signature = signer.signQuery(
            SigV4Signer.Request(method: "GET", path: location.path, headers: ["Host": location.host]),
            payload: .unsigned, date: now, expires: seconds)
        return location.url(query: signature.query)
    }

    /// Creates the configured bucket; succeeds when this account already owns it.
    public func createBucket() async throws {
        var operation = Operation(method: "PUT")
        if configuration.region != "us-east-1" {
            let body = Array(
                ("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                    + "<LocationConstraint>\(XMLText.escape(configuration.region))</LocationConstraint>"
                    + "</CreateBucketConfiguration>").utf8)
            operation.body = .bytes(body)
            operation.payload = .bytes(body)
            operation.headers.add("Content-Type", "application/xml")
        }
        do {
            _ = try await performCollecting(operation)
        } catch let error as S3Error where error.code == "BucketAlreadyOwnedByYou" {
            return
        }
    }

    /// Deletes the configured bucket, which must be empty.
    public func deleteBucket() async throws {
        _ = try await performCollecting(Operation(method: "DELETE"))
    }
}
