import Foundation
import GatewayAPI
import HTTPTypes
import OpenAPIRuntime
import Synchronization

/// A middleware of one call of the generated client: it keeps the answer's head and, unless the
/// body streams (events), the body as the gateway sent it (`--output json` prints those bytes),
/// and throws an error answer as the `CLIError` naming the problem's code and detail.
final class GatewayExchange: ClientMiddleware, Sendable {
    struct Recorded: Sendable {
        var path = ""
        var response: HTTPResponse?
        var body: [UInt8] = []
    }

    static let bodyLimit = 64 << 20

    /// Whether an answer outside 2xx is thrown (false: it is an answer too, as for `/readyz`).
    private let throwsErrorAnswers: Bool
    private let recorded = Mutex(Recorded())

    init(throwsErrorAnswers: Bool = true) { self.throwsErrorAnswers = throwsErrorAnswers }

    var path: String { recorded.withLock { $0.path } }
    var status: Int { recorded.withLock { $0.response?.status.code ?? 0 } }
    var body: [UInt8] { recorded.withLock { $0.body } }
    var date: String? { recorded.withLock { $0.response?.headerFields[.date] } }

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        recorded.withLock { $0.path = request.path ?? "" }
        let (response, body) = try await next(request, body, baseURL)
        recorded.withLock { $0.response = response }
        let succeeded = response.status.kind == .successful
        if succeeded && operationID == Operations.GetJobEvents.id { return (response, body) }
        var bytes: [UInt8] = []
        if let body { bytes = Array(try await ArraySlice(collecting: body, upTo: Self.bodyLimit)) }
        if !succeeded && throwsErrorAnswers {
            throw GatewayFailure.error(status: response.status.code, body: bytes)
        }
        recorded.withLock { $0.body = bytes }
        return (response, HTTPBody(bytes))
    }
}
