import Foundation
import HTTPClient
import Logging
import Provenance

/// A decoded answer of the gateway with the bytes it came from, for `--output json`.
struct GatewayAnswer<Value: Sendable>: Sendable {
    var value: Value
    var body: [UInt8]
}

/// The gateway's `/v1` API as typed calls. Every failure is thrown as a `CLIError`.
struct GatewayClient: Sendable {
    let baseURL: String
    private let token: String?
    private let http: HTTPClient

    init(baseURL: String, token: String?) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
        // stdout carries what scripts parse and stderr the progress: the client's retry
        // notices would only clutter them.
        var logger = Logger(label: "buildchain.http") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        self.http = HTTPClient(logger: logger)
    }

    func submit(_ submission: BuildSubmission) async throws -> GatewayAnswer<Job> {
        let body: Data
        do {
            body = try GatewayJSON.encoder().encode(submission)
        } catch {
            throw CLIError(exitStatus: ExitStatus.usage, message: "cannot encode the build request: \(error)")
        }
        return try await call("POST", "/v1/builds", body: Array(body))
    }

    func jobs(_ query: JobQuery) async throws -> GatewayAnswer<JobPage> {
        try await call("GET", "/v1/jobs" + query.queryString)
    }

    func job(_ id: JobID) async throws -> GatewayAnswer<Job> {
        try await call("GET", "/v1/jobs/\(id)")
    }

    /// The job's DSSE envelope (`GET /v1/jobs/{id}/provenance`).
    func provenance(_ id: JobID) async throws -> GatewayAnswer<DSSEEnvelope> {
        try await call("GET", "/v1/jobs/\(id)/provenance")
    }

    func cancel(_ id: JobID) async throws -> GatewayAnswer<Job> {
        try await call("POST", "/v1/jobs/\(id)/cancel")
    }

    /// Retries the job, giving its secrets again when it had some (no body otherwise).
    func retry(_ id: JobID, secretBuildArgs: [String: String]? = nil, secrets: [String: String]? = nil) async throws
        -> GatewayAnswer<Job>
    {
        guard secretBuildArgs != nil || secrets != nil else { return try await call("POST", "/v1/jobs/\(id)/retry") }
        let body = try JSONEncoder().encode(["secret_build_args": secretBuildArgs ?? [:], "secrets": secrets ?? [:]])
        return try await call("POST", "/v1/jobs/\(id)/retry", body: Array(body))
    }

    /// `GET /readyz`, whatever its status: not ready is an answer, not a failure.
    func readiness() async throws -> BufferedClientResponse {
        try await send(ClientRequest(url: baseURL + "/readyz", headers: headers(), timeout: .seconds(10)))
    }

    /// Opens `GET /v1/jobs/{id}/events?after=`; the body streams NDJSON until the job ends.
    func openEvents(_ id: JobID, after: Int64) async throws -> ClientResponse {
        let path = "/v1/jobs/\(id)/events"
        let request = ClientRequest(
            url: baseURL + path + "?after=\(after)", headers: headers(accept: "application/x-ndjson"))
        let response: ClientResponse
        do {
            response = try await http.execute(request)
        } catch let error as HTTPClientError {
            throw CLIError.unreachable(baseURL, reason: "\(error)")
        }
        guard (200..<300).contains(response.status) else {
            let body = (try? await response.collect(upTo: 64 << 10)) ?? []
            throw GatewayFailure.error(for: BufferedClientResponse(head: response.head, body: body))
        }
        return response
    }

    private func call<Value: Decodable & Sendable>(
        _ method: String, _ path: String, body: [UInt8]? = nil
    ) async throws -> GatewayAnswer<Value> {
        var headers = headers()
        if body != nil { headers.add("Content-Type", "application/json") }
        let request = ClientRequest(
            method: method, url: baseURL + path, headers: headers, body: body.map { .bytes($0) } ?? .none,
            timeout: .seconds(60))
        let response = try await send(request)
        guard (200..<300).contains(response.status) else {
            throw GatewayFailure.error(for: response)
        }
        do {
            return GatewayAnswer(value: try GatewayJSON.decode(Value.self, from: response.body), body: response.body)
        } catch {
            throw CLIError.unreadableAnswer(path, reason: "\(error)")
        }
    }

    private func send(_ request: ClientRequest) async throws -> BufferedClientResponse {
        do {
            return try await http.send(request, limit: 64 << 20)
        } catch let error as HTTPClientError {
            throw CLIError.unreachable(baseURL, reason: "\(error)")
        }
    }

    private func headers(accept: String = "application/json") -> HTTPHeaders {
        var headers: HTTPHeaders = ["Accept": accept]
        if let token { headers.add("Authorization", "Bearer \(token)") }
        return headers
    }
}
