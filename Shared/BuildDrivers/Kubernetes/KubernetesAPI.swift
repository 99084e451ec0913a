import Foundation
import HTTPClient

/// An error answer of the Kubernetes API server, or the server unreachable.
public struct KubernetesAPIError: Error, Sendable, CustomStringConvertible {
    public let status: Int?
    public let message: String

    public var description: String { status.map { "Kubernetes API \($0): \(message)" } ?? "Kubernetes API: \(message)" }
}

/// The few Kubernetes API calls the Kaniko driver makes, over libcurl: create, read and
/// delete a Job, list its pods, follow a container's log.
public struct KubernetesAPI: Sendable {
    /// In-cluster: the service account's token and CA, and the API server's service address.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    public let baseURL: String
    public let namespace: String
    private let tokenFile: String?
    private let http: HTTPClient

    /// `tokenFile` is read at every call: Kubernetes rotates projected tokens.
    public init(baseURL: String, namespace: String, tokenFile: String?, http: HTTPClient) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.namespace = namespace
        self.tokenFile = tokenFile
        self.http = http
    }

    private var jobs: String { "\(baseURL)/apis/batch/v1/namespaces/\(namespace)/jobs" }
    private var pods: String { "\(baseURL)/api/v1/namespaces/\(namespace)/pods" }

    /// Creates the Job; a Job of that name already there (a retried call) is taken as created.
    public func createJob(_ manifest: Data) async throws {
        let response = try await send("POST", jobs, body: Array(manifest))
        guard response.status == 201 || response.status == 200 || response.status == 409 else {
            throw failure(response)
        }
    }

    public func job(_ name: String) async throws -> [String: Any] {
        let response = try await send("GET", "\(jobs)/\(name)")
        guard response.status == 200 else { throw failure(response) }
        return try object(response)
    }

    /// Deletes the Job and, in the background, its pods.
    public func deleteJob(_ name: String) async throws {
        let response = try await send(
            "DELETE", "\(jobs)/\(name)", body: Array(#"{"propagationPolicy":"Background"}"#.utf8))
        guard response.status == 200 || response.status == 202 || response.status == 404 else { throw failure(response) }
    }

    /// The pods of the Job (Kubernetes labels them `job-name=<name>`).
    public func podsOfJob(_ name: String) async throws -> [[String: Any]] {
        let response = try await send("GET", "\(pods)?labelSelector=job-name%3D\(name)")
        guard response.status == 200 else { throw failure(response) }
        return try object(response)["items"] as? [[String: Any]] ?? []
    }

    /// Follows the container's log until it ends, one line at a time. Returns false when there is
    /// no log to follow yet: the container has not started (400), its log is not there yet (204,
    /// seen on a real v1.32 cluster just as an init container starts), the pod is not visible yet (404).
    public func followLog(pod: String, container: String, onLine: (String) -> Void) async throws -> Bool {
        let response = try await execute(
            ClientRequest(
                url: "\(pods)/\(pod)/log?container=\(container)&follow=true", headers: try headers(),
                retry: .never))
        guard response.status == 200 else {
            _ = try? await response.collect(upTo: 64 << 10)
            if [204, 400, 404].contains(response.status) { return false }
            throw KubernetesAPIError(status: response.status, message: "log of \(pod)/\(container)")
        }
        var lines = LineSplitter(keepsEmptyLines: true)
        for try await chunk in response.body {
            for line in lines.append(chunk) { onLine(String(decoding: line, as: UTF8.self)) }
        }
        if let last = lines.finish() { onLine(String(decoding: last, as: UTF8.self)) }
        return true
    }

    private func headers() throws -> HTTPHeaders {
        var headers: HTTPHeaders = ["Accept": "application/json", "Content-Type": "application/json"]
        if let tokenFile {
            let token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            headers.add("Authorization", "Bearer \(token)")
        }
        return headers
    }

    private func send(_ method: String, _ url: String, body: [UInt8]? = nil) async throws -> BufferedClientResponse {
        let request = ClientRequest(
            method: method, url: url, headers: try headers(), body: body.map { .bytes($0) } ?? .none,
            timeout: .seconds(30))
        do {
            return try await http.send(request, limit: 8 << 20)
        } catch let error as HTTPClientError {
            throw KubernetesAPIError(status: nil, message: "\(error)")
        }
    }

    private func execute(_ request: ClientRequest) async throws -> ClientResponse {
        do {
            return try await http.execute(request)
        } catch let error as HTTPClientError {
            throw KubernetesAPIError(status: nil, message: "\(error)")
        }
    }

    private func object(_ response: BufferedClientResponse) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
            throw KubernetesAPIError(status: response.status, message: "an answer that is not a JSON object")
        }
        return object
    }

    private func failure(_ response: BufferedClientResponse) -> KubernetesAPIError {
        let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        return KubernetesAPIError(status: response.status, message: object?["message"] as? String ?? response.text)
    }
}
