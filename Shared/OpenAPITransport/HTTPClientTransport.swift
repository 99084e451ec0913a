import Foundation
import HTTPClient
import HTTPTypes
import OpenAPIRuntime

/// Sends the generated clients' requests through the project's libcurl `HTTPClient`.
/// Bodies stream both ways: a request body of unknown or large size is pulled as curl sends it,
/// and a response body is handed to the caller as it arrives, so uploads and downloads of any
/// size stay in bounded memory.
public struct HTTPClientTransport: ClientTransport {
    /// Request bodies up to this size are collected first, so that idempotent requests can be retried.
    static let replayableBodyLimit = 1 << 20

    public let client: HTTPClient
    /// A limit on the whole exchange; nil (the default) means none, as large artifacts need.
    public var timeout: Duration?
    /// Limits and retries of single operations (by operation id), over `timeout` and the client's retry policy.
    public var operations: [String: OperationPolicy]

    public init(client: HTTPClient = HTTPClient(), timeout: Duration? = nil, operations: [String: OperationPolicy] = [:]) {
        self.client = client
        self.timeout = timeout
        self.operations = operations
    }

    public func send(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var headers = HTTPHeaders()
        for field in request.headerFields { headers.add(field.name.rawName, field.value) }
        let outbound = ClientRequest(
            method: request.method.rawValue, url: Self.url(baseURL, request.path ?? "/"), headers: headers,
            body: try await Self.requestBody(body), timeout: operations[operationID]?.timeout ?? timeout,
            retry: operations[operationID]?.retry)
        let response = try await client.execute(outbound)
        var fields = HTTPFields()
        for (name, value) in response.headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        let head = HTTPResponse(status: .init(code: response.status), headerFields: fields)
        guard request.method != .head, response.status != 204, response.status != 304 else {
            response.body.cancel()
            return (head, nil)
        }
        let length = response.headers["Content-Length"].flatMap(Int64.init).map { HTTPBody.Length.known($0) }
        return (head, HTTPBody(response.body, length: length ?? .unknown, iterationBehavior: .single))
    }

    static func url(_ base: URL, _ path: String) -> String {
        var prefix = base.absoluteString
        while prefix.hasSuffix("/") { prefix.removeLast() }
        return prefix + path
    }

    static func requestBody(_ body: HTTPBody?) async throws -> ClientRequestBody {
        guard let body else { return .none }
        switch body.length {
        case .known(let length) where length <= replayableBodyLimit:
            return .bytes(Array(try await ArraySlice(collecting: body, upTo: Int(length))))
        case .known(let length):
            return .stream(ClientBodyStream(body.map { Array($0) }), length: length)
        case .unknown:
            return .stream(ClientBodyStream(body.map { Array($0) }), length: nil)
        }
    }
}

/// How one operation's exchanges are bounded and retried.
public struct OperationPolicy: Sendable {
    public var timeout: Duration?
    /// nil: the client's policy (idempotent requests retried on connection failures and 429/502/503/504).
    public var retry: RetryPolicy?

    public init(timeout: Duration? = nil, retry: RetryPolicy? = nil) {
        self.timeout = timeout
        self.retry = retry
    }
}
