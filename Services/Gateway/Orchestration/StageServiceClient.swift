import Foundation
import HTTPClient
import Records
import ServiceKit
import StageClients

/// A run on a stage service, as its `GET /v1/<runs>/{id}` shows it.
public struct RemoteRun: Decodable, Sendable {
    public var id: UUID
    public var status: RunStatus
    public var result: JSONValue?
    public var error: RunFailure?
    public var heartbeatAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, status, result, error
        case heartbeatAt = "heartbeat_at"
    }
}

/// Calls one stage service. Every failure comes back as a `RunFailure`: a refusal (4xx)
/// carries the service's problem code and is final; an unreachable service or a 5xx is
/// `SERVICE_UNAVAILABLE` and retryable.
public struct StageServiceClient: Sendable {
    public let name: String
    private let endpoint: ServiceEndpoint
    private let http: HTTPClient

    public init(name: String, endpoint: ServiceEndpoint, http: HTTPClient) {
        self.name = name
        self.endpoint = endpoint
        self.http = http
    }

    /// `POST path` with a JSON body (and `extra` headers); the decoded answer when it is one of `accepting`.
    public func post<Answer: Decodable>(
        _ path: String, body: some Encodable, headers extra: HTTPHeaders = [:], accepting: Set<Int> = [200, 202],
        as: Answer.Type, timeout: Duration = .seconds(60)
    ) async throws -> Answer {
        let bytes = Array(try JSONResponse<JSONValue>.encoder.encode(AnyEncodable(body)))
        var requestHeaders = extra
        requestHeaders.set("Content-Type", "application/json")
        let response = try await send(
            ClientRequest(
                method: "POST", url: endpoint.baseURL + path,
                headers: headers(requestHeaders), body: .bytes(bytes), timeout: timeout,
                retry: .never))
        guard accepting.contains(response.status) else { throw failure(response, path: path) }
        return try decode(Answer.self, from: response, path: path)
    }

    public func run(_ path: String, id: UUID) async throws -> RemoteRun {
        let response = try await send(
            ClientRequest(url: endpoint.baseURL + "\(path)/\(id.uuidString.lowercased())", headers: headers(), timeout: .seconds(30)))
        guard response.status == 200 else { throw failure(response, path: path) }
        return try decode(RemoteRun.self, from: response, path: path)
    }

    /// Asks the service to cancel the run; errors are ignored (the run may have ended, or the
    /// service may be gone, in which case there is nothing left to stop).
    public func cancel(_ path: String, id: UUID) async {
        _ = try? await send(
            ClientRequest(
                method: "DELETE", url: endpoint.baseURL + "\(path)/\(id.uuidString.lowercased())", headers: headers(),
                timeout: .seconds(15), retry: .never))
    }

    /// `HEAD path`: whether the service answers 200.
    public func exists(_ path: String) async throws -> Bool {
        let response = try await send(
            ClientRequest(method: "HEAD", url: endpoint.baseURL + path, headers: headers(), timeout: .seconds(15)))
        if response.status >= 500 { throw failure(response, path: path) }
        return response.status == 200
    }

    /// Reads the run's events after `after` as they come (NDJSON) and hands them over in
    /// batches; returns when the service ends the stream (the run ended) or throws when the
    /// connection breaks.
    public func followEvents(
        _ path: String, id: UUID, after: Int64, deliver: ([CopiedEvent]) async throws -> Void
    ) async throws {
        let request = ClientRequest(
            url: endpoint.baseURL + "\(path)/\(id.uuidString.lowercased())/events?after=\(after)",
            headers: headers(["Accept": "application/x-ndjson"]), retry: .never)
        let response: ClientResponse
        do {
            response = try await http.execute(request)
        } catch let error as HTTPClientError {
            throw unavailable("\(error)")
        }
        guard response.status == 200 else {
            let body = (try? await response.collect(upTo: 64 << 10)) ?? []
            throw failure(BufferedClientResponse(head: response.head, body: body), path: path)
        }
        var lines = LineSplitter()
        do {
            for try await chunk in response.body {
                let events = lines.append(chunk).compactMap(Self.event(from:))
                if !events.isEmpty { try await deliver(events) }
            }
        } catch let error as HTTPClientError {
            throw unavailable("\(error)")
        }
    }

    private static func event(from line: [UInt8]) -> CopiedEvent? {
        struct Line: Decodable {
            var seq: Int64
            var kind: RunEvent.Kind
            var stream: String?
            var message: String
        }
        guard let decoded = try? JSONDecoder().decode(Line.self, from: Data(line)) else { return nil }
        // The run's own state changes become log lines of the stage (stream `run`): the
        // stage's state events are the gateway's.
        if decoded.kind == .state {
            return CopiedEvent(seq: decoded.seq, kind: .log, stream: "run", message: "run \(decoded.message)")
        }
        return CopiedEvent(seq: decoded.seq, kind: decoded.kind, stream: decoded.stream, message: decoded.message)
    }

    private func headers(_ extra: HTTPHeaders = [:]) -> HTTPHeaders {
        var headers = extra
        headers.add("Authorization", "Bearer \(endpoint.token.value)")
        return headers
    }

    private func send(_ request: ClientRequest) async throws -> BufferedClientResponse {
        do {
            return try await http.send(request, limit: 16 << 20)
        } catch let error as HTTPClientError {
            throw unavailable("\(error)")
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, from response: BufferedClientResponse, path: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = ISO8601.date(from: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a date"))
            }
            return date
        }
        do {
            return try decoder.decode(T.self, from: Data(response.body))
        } catch {
            throw unavailable("unreadable answer to \(path)")
        }
    }

    private func failure(_ response: BufferedClientResponse, path: String) -> RunFailure {
        let problem = try? JSONDecoder().decode(ProblemDetails.self, from: Data(response.body))
        if response.status >= 500 || response.status == 429 {
            return unavailable("\(path) answered \(response.status)\(problem?.detail.map { ": \($0)" } ?? "")")
        }
        return RunFailure(
            code: problem?.code ?? "STAGE_REFUSED",
            message: "\(name) refused \(path): \(problem?.detail ?? "status \(response.status)")", retryable: false)
    }

    private func unavailable(_ detail: String) -> RunFailure {
        RunFailure(code: "SERVICE_UNAVAILABLE", message: "\(name): \(detail)", retryable: true)
    }
}

/// ISO 8601 dates with or without fractional seconds.
enum ISO8601 {
    static func date(from text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

/// Lets any Encodable go through one generic encoder call.
struct AnyEncodable: Encodable {
    let value: any Encodable

    init(_ value: any Encodable) { self.value = value }

    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}
