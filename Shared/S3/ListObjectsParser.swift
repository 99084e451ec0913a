/// Decoders for the XML documents S3 answers with.
enum S3ResponseParser {
    static func objectList(_ bytes: [UInt8]) throws(S3ClientError) -> S3ObjectList {
        let root = try XMLTree.parse(bytes)
        guard root.name == "ListBucketResult" else {
            throw .invalidResponse("expected ListBucketResult, got \(root.name)")
        }
        let objects = root.children("Contents").map { entry in
            S3ObjectSummary(
                key: entry["Key"] ?? "", size: entry["Size"].flatMap { Int64($0) } ?? 0, etag: entry["ETag"],
                lastModified: entry["LastModified"])
        }
        let token = root["NextContinuationToken"].flatMap { $0.isEmpty ? nil : $0 }
        return S3ObjectList(objects: objects, isTruncated: root["IsTruncated"] == "true", nextContinuationToken: token)
    }

    struct UploadsPage {
        var uploads: [S3MultipartUploadSummary]
        var nextKeyMarker: String?
        var nextUploadIDMarker: String?
    }

    static func multipartUploads(_ bytes: [UInt8]) throws(S3ClientError) -> UploadsPage {
        let root = try XMLTree.parse(bytes)
        guard root.name == "ListMultipartUploadsResult" else {
            throw .invalidResponse("expected ListMultipartUploadsResult, got \(root.name)")
        }
        let uploads = root.children("Upload").map {
            S3MultipartUploadSummary(key: $0["Key"] ?? "", uploadID: $0["UploadId"] ?? "", initiated: $0["Initiated"])
        }
        guard root["IsTruncated"] == "true" else { return UploadsPage(uploads: uploads) }
        return UploadsPage(
            uploads: uploads, nextKeyMarker: root["NextKeyMarker"], nextUploadIDMarker: root["NextUploadIdMarker"])
    }

    static func uploadID(_ bytes: [UInt8]) throws(S3ClientError) -> String {
        let root = try XMLTree.parse(bytes)
        guard root.name == "InitiateMultipartUploadResult", let id = root["UploadId"], !id.isEmpty else {
            throw .invalidResponse("no UploadId in \(root.name)")
        }
        return id
    }

    /// CompleteMultipartUpload may answer 200 with an `<Error>` document.
    /// Any other 200 answer means the object exists, so an unexpected shape
    /// (moto names the root `CompleteMultipartUploadResponse`) is no failure.
    static func completedETag(_ bytes: [UInt8], key: String) throws -> String? {
        guard let root = try? XMLTree.parse(bytes) else { return nil }
        if root.name == "Error" { throw error(from: root, status: 200, requestID: nil, resource: key) }
        return root["ETag"]
    }

    static func error(status: Int, body: [UInt8], requestID: String?, resource: String?) -> S3Error {
        if let root = try? XMLTree.parse(body), root.name == "Error" {
            return error(from: root, status: status, requestID: requestID, resource: resource)
        }
        return S3Error(
            code: S3Error.codeForStatus(status), status: status, message: "", requestID: requestID, resource: resource)
    }

    private static func error(from root: XMLTree, status: Int, requestID: String?, resource: String?) -> S3Error {
        S3Error(
            code: root["Code"] ?? S3Error.codeForStatus(status), status: status, message: root["Message"] ?? "",
            requestID: root["RequestId"] ?? requestID, resource: resource)
    }
}
