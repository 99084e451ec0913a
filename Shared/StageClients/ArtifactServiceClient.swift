import Foundation
import HTTPClient
import PathBytes
import ServiceKit

/// Where an artifact landed in the store.
public struct ArtifactRef: Codable, Sendable, Equatable {
    public var key: String
    public var size: Int64
    public var sha256: String

    public init(key: String, size: Int64, sha256: String) {
        self.key = key
        self.size = size
        self.sha256 = sha256
    }
}

/// Calls artifact-service, the only holder of the store's credentials:
/// files stream up and down, never whole in memory. Failures come back as
/// `RunFailure`s a stage can record as they are.
public struct ArtifactServiceClient: Sendable {
    public let baseURL: String
    private let token: Secret
    private let http: HTTPClient

    public init(baseURL: String, token: Secret, http: HTTPClient) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
        self.http = http
    }

    /// Uploads a local file under `key`; with `sha256` the service refuses
    /// a body that does not match it.
    public func upload(
        file path: String, as key: String, sha256: String? = nil, contentType: String = "application/octet-stream",
        jobID: UUID? = nil
    ) async throws -> ArtifactRef {
        var headers: HTTPHeaders = ["Authorization": "Bearer \(token.value)", "Content-Type": contentType]
        if let sha256 { headers.add("x-checksum-sha256", sha256) }
        let query = jobID.map { "?job_id=\($0.uuidString.lowercased())" } ?? ""
        let response = try await send(
            ClientRequest(method: "PUT", url: url(for: key) + query, headers: headers, body: .file(path: path)))
        guard response.status == 201 else { throw failure(response, key: key) }
        do {
            return try JSONDecoder().decode(ArtifactRef.self, from: Data(response.body))
        } catch {
            throw RunFailure(code: "STORE_UNAVAILABLE", message: "artifact-service answered an unreadable record", retryable: true)
        }
    }

    /// Streams the artifact `key` into a new file at `path`; returns its size.
    @discardableResult
    public func download(_ key: String, to path: String) async throws -> Int64 {
        let head: ClientResponseHead
        do {
            head = try await http.download(
                ClientRequest(url: url(for: key), headers: ["Authorization": "Bearer \(token.value)"]), to: path)
        } catch let error as HTTPClientError {
            throw RunFailure(code: "STORE_UNAVAILABLE", message: "artifact-service: \(error)", retryable: error.isTransient)
        }
        guard head.status == 200 else {
            try? FileManager.default.removeItem(atPath: path)
            throw RunFailure(
                code: head.status == 404 ? "ARTIFACT_NOT_FOUND" : "STORE_UNAVAILABLE",
                message: "artifact-service answered \(head.status) for \(key)", retryable: head.status >= 500)
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.size] as? NSNumber)?.int64Value ?? 0
    }

    /// A URL anyone can GET `key` from for `expires` (S3 store only).
    public func presignedURL(for key: String, expires: Duration = .seconds(3600)) async throws -> String {
        struct Body: Encodable {
            var key: String
            var expiresSeconds: Int64
            enum CodingKeys: String, CodingKey {
                case key
                case expiresSeconds = "expires_seconds"
            }
        }
        struct Answer: Decodable { var url: String }
        let body = try JSONResponse<Body>.encoder.encode(Body(key: key, expiresSeconds: expires.components.seconds))
        let response = try await send(
            ClientRequest(
                method: "POST", url: "\(baseURL)/v1/presigned-urls",
                headers: ["Authorization": "Bearer \(token.value)", "Content-Type": "application/json"],
                body: .bytes(Array(body))))
        guard response.status == 200, let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body)) else {
            throw failure(response, key: key)
        }
        return answer.url
    }

    /// Deletes `key`; one already gone is fine.
    public func delete(_ key: String) async throws {
        let response = try await send(
            ClientRequest(method: "DELETE", url: url(for: key), headers: ["Authorization": "Bearer \(token.value)"]))
        guard response.status == 204 || response.status == 200 || response.status == 404 else {
            throw failure(response, key: key)
        }
    }

    /// Where `PUT` stores `key` (for a client holding its own token).
    public func uploadURL(for key: String) -> String { url(for: key) }

    private func url(for key: String) -> String {
        let encoded = key.slashSegments().map {
            $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? String($0)
        }
        return "\(baseURL)/v1/artifacts/" + encoded.joined(separator: "/")
    }

    private func send(_ request: ClientRequest) async throws -> BufferedClientResponse {
        do {
            return try await http.send(request, limit: 1 << 20)
        } catch let error as HTTPClientError {
            throw RunFailure(code: "STORE_UNAVAILABLE", message: "artifact-service: \(error)", retryable: error.isTransient)
        }
    }

    private func failure(_ response: BufferedClientResponse, key: String) -> RunFailure {
        let problem = try? JSONDecoder().decode(ProblemDetails.self, from: Data(response.body))
        return RunFailure(
            code: response.status >= 500 ? "STORE_UNAVAILABLE" : (problem?.code ?? "STORE_REJECTED"),
            message: "artifact-service refused \(key): \(problem?.detail ?? "status \(response.status)")",
            retryable: response.status >= 500)
    }
}
