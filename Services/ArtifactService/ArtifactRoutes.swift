import Digests
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PathBytes
import Records
import ServiceKit

/// The artifact store over HTTP: bytes stream in and out, every artifact
/// is recorded in PostgreSQL, and SHA-256 and size are computed on the way in.
struct ArtifactRoutes {
    let backend: any ArtifactBackend
    let index: ArtifactIndex
    let presignMaxSeconds: Int

    static let prefix = "/v1/artifacts/"

    func register(on router: Router<ServiceRequestContext>) {
        router.put("/v1/artifacts/**") { request, context in try await put(request, context) }
        router.get("/v1/artifacts/**") { request, context in try await get(request, context, headOnly: false) }
        router.head("/v1/artifacts/**") { request, context in try await get(request, context, headOnly: true) }
        router.delete("/v1/artifacts/**") { request, context in try await delete(request, context) }
        router.get("/v1/artifacts") { request, _ in try await list(request) }
        router.post("/v1/presigned-urls") { request, context in try await presign(request, context) }
    }

    private func key(of request: Request) throws -> ArtifactKey {
        // Bytes: a key starting with a combining mark makes "/\u{0301}" one Character of the path.
        let raw = String(request.uri.path.droppingFirstBytes(Self.prefix.utf8.count))
        guard let decoded = raw.removingPercentEncoding else {
            throw ServiceError.badRequest("the artifact key is not valid percent-encoding", code: "INVALID_KEY")
        }
        return try ArtifactKey(decoded)
    }

    private func put(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        let key = try key(of: request)
        let expected = try ExpectedDigest(headers: request.headers)
        let jobID = try request.uri.queryParameters.get("job_id").map { text in
            guard let id = UUID(uuidString: String(text)) else {
                throw ServiceError.badRequest("job_id must be a UUID", code: "INVALID_JOB_ID")
            }
            return id
        }
        let mediaType = request.headers[.contentType] ?? "application/octet-stream"
        let stored: StoredContent
        do {
            stored = try await backend.store(
                ChunkSequence(requestBody: request.body), as: key, mediaType: mediaType,
                expectedSHA256: expected?.hex)
        } catch let failure as RequestBodyFailure {
            // The client's side (it went away, the body was malformed): answered as any error is.
            throw failure.underlying
        } catch ArtifactUploadError.digestMismatch(let expected, let actual) {
            throw ServiceError(
                .badRequest, code: "DIGEST_MISMATCH",
                detail: "the body's SHA-256 is \(actual), the request said \(expected); nothing was stored")
        } catch let error as ObjectTreeError {
            throw error.serviceError(logger: context.logger)
        } catch {
            context.logger.error("store failed", metadata: ["key": "\(key)", "error": "\(error)"])
            throw ServiceError(.serviceUnavailable, code: "STORE_UNAVAILABLE", detail: "the artifact store did not take the upload")
        }
        let record = try await index.record(
            ArtifactRecord(key: key.value, size: stored.size, sha256: stored.sha256, mediaType: mediaType, jobID: jobID))
        var response = try JSONResponse(record).response(status: .created)
        response.headers[.location] = Self.prefix + key.value
        return response
    }

    private func get(_ request: Request, _ context: ServiceRequestContext, headOnly: Bool) async throws -> Response {
        let key = try key(of: request)
        guard let record = try await index.find(key.value) else {
            throw ServiceError.notFound("no artifact \(key)")
        }
        let range = try request.headers[.range].flatMap { try ByteRange(header: $0, size: record.size) }
        var headers: HTTPFields = [
            .contentType: record.mediaType, .acceptRanges: "bytes", .eTag: "\"\(record.sha256)\"",
            HTTPField.Name("x-checksum-sha256")!: record.sha256,
        ]
        let status: HTTPResponse.Status
        if let range {
            status = .partialContent
            headers[.contentLength] = String(range.length)
            headers[.contentRange] = "bytes \(range.first)-\(range.last)/\(record.size)"
        } else {
            status = .ok
            headers[.contentLength] = String(record.size)
        }
        if headOnly {
            // HEAD says what GET would: the stored object's size is checked the same way.
            let size = try await answeringStoreErrors(context) { try await backend.size(of: key) }
            try checkStored(size: size, of: key, against: record, context)
            return Response(status: status, headers: headers)
        }
        let stream = try await answeringStoreErrors(context) { try await backend.read(key, range: range.map { $0.first...$0.last }) }
        guard let stream else { throw ServiceError.notFound("no artifact \(key)") }
        try checkStored(size: stream.totalSize, of: key, against: record, context)
        let body = ExactLengthBody(chunks: stream.chunks, length: range?.length ?? record.size)
        return Response(status: status, headers: headers, body: ResponseBody { writer in try await body.write(to: &writer) })
    }

    /// A backend call whose filesystem errors are answered as the client should hear them.
    private func answeringStoreErrors<T>(_ context: ServiceRequestContext, _ call: () async throws -> T) async throws -> T {
        do {
            return try await call()
        } catch let error as ObjectTreeError {
            throw error.serviceError(logger: context.logger)
        }
    }

    /// Content-Length comes from the record: an object of another size (changed or lost behind
    /// the index's back) would leave a client waiting for bytes that never come, so it is
    /// refused before the headers go out.
    private func checkStored(size: Int64?, of key: ArtifactKey, against record: ArtifactRecord, _ context: ServiceRequestContext)
        throws
    {
        guard let size else { throw ServiceError.notFound("no artifact \(key)") }
        guard size == record.size else {
            context.logger.error(
                "stored object differs from its record",
                metadata: ["key": "\(key)", "stored": "\(size)", "recorded": "\(record.size)"])
            throw ServiceError(
                .serviceUnavailable, code: "STORE_INCONSISTENT",
                detail: "the stored object has \(size) bytes, the record \(record.size); it is not served")
        }
    }

    private func delete(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        let key = try key(of: request)
        guard try await index.find(key.value) != nil else { throw ServiceError.notFound("no artifact \(key)") }
        try await answeringStoreErrors(context) { try await backend.delete(key) }
        try await index.remove(key.value)
        return Response(status: .noContent)
    }

    private func list(_ request: Request) async throws -> JSONResponse<ArtifactPage> {
        let query = request.uri.queryParameters
        let prefix = query.get("prefix").map { String($0) } ?? ""
        let limit = try query.get("limit").map { text in
            guard let value = Int(String(text)), (1...1000).contains(value) else {
                throw ServiceError.badRequest("limit must be an integer from 1 to 1000", code: "INVALID_LIMIT")
            }
            return value
        } ?? 100
        let cursor = try query.get("cursor").map { try Cursor.decode(String($0)) }
        let items = try await index.list(prefix: prefix, after: cursor, limit: limit + 1)
        let page = Array(items.prefix(limit))
        return JSONResponse(
            ArtifactPage(items: page, nextCursor: items.count > limit ? page.last.map { Cursor.encode($0.key) } : nil))
    }

    private func presign(_ request: Request, _ context: ServiceRequestContext) async throws -> JSONResponse<PresignedURL> {
        let body = try await request.decodeJSON(as: PresignRequest.self, context: context)
        let key = try ArtifactKey(body.key)
        let seconds = body.expiresSeconds ?? 3600
        guard (1...presignMaxSeconds).contains(seconds) else {
            throw ServiceError.badRequest("expires_seconds must be from 1 to \(presignMaxSeconds)", code: "INVALID_EXPIRY")
        }
        guard try await index.find(key.value) != nil else { throw ServiceError.notFound("no artifact \(key)") }
        guard let url = try backend.presignedURL(for: key, expires: .seconds(seconds)) else {
            throw ServiceError.conflict("the filesystem store has no presigned URLs", code: "PRESIGN_UNSUPPORTED")
        }
        return JSONResponse(PresignedURL(url: url, expiresAt: Date().addingTimeInterval(TimeInterval(seconds))))
    }
}

struct ArtifactPage: Codable, Sendable {
    var items: [ArtifactRecord]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case items
        case nextCursor = "next_cursor"
    }
}

struct PresignRequest: Decodable, Sendable {
    var key: String
    var expiresSeconds: Int?

    enum CodingKeys: String, CodingKey {
        case key
        case expiresSeconds = "expires_seconds"
    }
}

struct PresignedURL: Codable, Sendable {
    var url: String
    var expiresAt: Date

    enum CodingKeys: String, CodingKey {
        case url
        case expiresAt = "expires_at"
    }
}

/// Opaque list cursors: the last key of a page, base64url.
enum Cursor {
    static func encode(_ key: String) -> String {
        Data(key.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
    }

    static func decode(_ text: String) throws -> String {
        let base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let padded = base64 + String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: padded), let key = String(data: data, encoding: .utf8) else {
            throw ServiceError.badRequest("cursor is not one this service gave out", code: "INVALID_CURSOR")
        }
        return key
    }
}

extension ObjectTreeError {
    /// How the client hears of it; a failure of the filesystem itself is logged, not told.
    func serviceError(logger: Logger) -> ServiceError {
        switch self {
        case .outsideStore: return .badRequest(description, code: "INVALID_KEY")
        case .occupied: return .conflict(description, code: "KEY_CONFLICT")
        case .system:
            logger.error("filesystem store failed", metadata: ["error": "\(self)"])
            return ServiceError(.serviceUnavailable, code: "STORE_UNAVAILABLE", detail: "the artifact store failed")
        }
    }
}
