import ArtifactAPI
import ContractCoding
import Foundation
import HTTPClient
import HTTPTypes
import Logging
import OpenAPIRuntime
import OpenAPITransport
import PathBytes
import ServiceKit

/// Where an artifact landed in the store.
public struct ArtifactRef: Codable, Sendable, Equatable {
    public var key: String
    public var size: Int64
    public var sha256: String
}

/// Calls artifact-service, the only holder of the store's credentials, through its generated
/// client: files stream up and down, never whole in memory. Failures come back as
/// `RunFailure`s a stage can record as they are.
public struct ArtifactServiceClient: Sendable {
    public let baseURL: String
    private let client: Client
    private let serverURL: URL
    private let transport: HTTPClientTransport
    private let token: Secret
    private let logger: Logger

    public init(baseURL: String, token: Secret, http: HTTPClient) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
        logger = http.logger
        serverURL = URL(string: self.baseURL) ?? URL(fileURLWithPath: "/")
        transport = HTTPClientTransport(client: http)
        client = Self.client(serverURL, transport, token: token)
    }

    /// Uploads a local file under `key`; with `sha256` the service refuses
    /// a body that does not match it. `contentType` is recorded as the artifact's media type.
    public func upload(
        file path: String, as key: String, sha256: String? = nil, contentType: String = "application/octet-stream",
        jobID: UUID? = nil
    ) async throws -> ArtifactRef {
        let client = Self.client(serverURL, transport, token: token, contentType: contentType)
        // A streamed body cannot be replayed by the transport: the file is sent again from its
        // start after a connection failure or a 5xx, as the client retries a PUT of a file.
        var attempt = 1
        let output: Operations.PutArtifact.Output
        while true {
            do {
                output = try await Self.failures.call("putArtifact") {
                    try await client.putArtifact(
                        path: .init(key: key), query: .init(jobId: jobID?.uuidString.lowercased()),
                        headers: .init(xChecksumSha256: sha256), body: .binary(try .file(at: path)))
                }
                break
            } catch let failure as RunFailure where failure.retryable && attempt < Self.uploadAttempts {
                logger.notice(
                    "retrying after failure",
                    metadata: ["key": "\(key)", "code": "\(failure.code)", "attempt": "\(attempt)"])
                try await Task.sleep(for: .milliseconds(200 << attempt))
                attempt += 1
            }
        }
        guard case .created(let created) = output, case .json(let artifact) = created.body else {
            throw Self.failures.unexpected("putArtifact")
        }
        return ArtifactRef(key: artifact.key, size: Int64(artifact.size), sha256: artifact.sha256)
    }

    /// Streams the artifact `key` into a new file at `path`; returns its size.
    @discardableResult
    public func download(_ key: String, to path: String) async throws -> Int64 {
        let output = try await Self.failures.call("getArtifact") { try await client.getArtifact(path: .init(key: key)) }
        guard case .ok(let ok) = output else { throw Self.failures.unexpected("getArtifact") }
        // Sent as the media type it was stored with.
        let body = switch ok.body {
        case .binary(let body), .any(let body): body
        }
        do {
            return try await Self.failures.call("getArtifact") { try await body.write(toFile: path) }
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error as? RunFailure
                ?? RunFailure(code: "STORE_UNAVAILABLE", message: "artifact-service: \(key) could not be read: \(error)", retryable: true)
        }
    }

    /// A URL anyone can GET `key` from for `expires` (S3 store only).
    public func presignedURL(for key: String, expires: Duration = .seconds(3600)) async throws -> String {
        let output = try await Self.failures.call("presignArtifact") {
            try await client.presignArtifact(body: .json(.init(key: key, expiresSeconds: Int(expires.components.seconds))))
        }
        guard case .ok(let ok) = output, case .json(let answer) = ok.body else {
            throw Self.failures.unexpected("presignArtifact")
        }
        return answer.url
    }

    /// Deletes `key`; one already gone is fine.
    public func delete(_ key: String) async throws {
        _ = try await Self.failures.call("deleteArtifact") { try await client.deleteArtifact(path: .init(key: key)) }
    }

    /// Where `PUT` stores `key` (for a client holding its own token).
    public func uploadURL(for key: String) -> String {
        let encoded = key.slashSegments().map {
            $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? String($0)
        }
        return "\(baseURL)/v1/artifacts/" + encoded.joined(separator: "/")
    }

    static let uploadAttempts = 4

    /// 5xx: the store failed (retryable); a 404 of a download: ARTIFACT_NOT_FOUND; other
    /// refusals carry the service's problem code. A 404 of a delete is no failure.
    static let failures = ServiceFailures(
        refusal: { status, problem, operation in
            if operation == "getArtifact" && status == 404 {
                return RunFailure(code: "ARTIFACT_NOT_FOUND", message: "artifact-service answered 404: \(problem?.detail ?? "no such artifact")", retryable: false)
            }
            return RunFailure(
                code: status >= 500 ? "STORE_UNAVAILABLE" : (problem?.code ?? "STORE_REJECTED"),
                message: "artifact-service refused \(operation): \(problem?.detail ?? "status \(status)")",
                retryable: status >= 500)
        },
        unreachable: { detail, transient in
            RunFailure(code: "STORE_UNAVAILABLE", message: "artifact-service: \(detail)", retryable: transient)
        },
        passing: { status, operation in operation == "deleteArtifact" && status == 404 })

    private static func client(_ url: URL, _ transport: HTTPClientTransport, token: Secret, contentType: String? = nil) -> Client {
        var middlewares: [any ClientMiddleware] = [BearerToken(token.value), failures.middleware]
        if let contentType { middlewares.append(MediaType(contentType)) }
        return Client(serverURL: url, configuration: .buildchain, transport: transport, middlewares: middlewares)
    }
}

/// Sends the body as `value` (the spec's upload body is any type; artifact-service records it).
private struct MediaType: ClientMiddleware {
    let value: String

    init(_ value: String) { self.value = value }

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.contentType] = value
        return try await next(request, body, baseURL)
    }
}
