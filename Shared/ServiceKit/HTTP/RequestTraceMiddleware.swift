import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TraceContext

/// Gives each request an id (the caller's `X-Request-Id` when it is sane)
/// and a W3C trace context (continuing the caller's `traceparent`), puts
/// both in the request's logger, echoes them in the response, and binds
/// them for outbound calls made while handling the request. Logs one line
/// per request with its outcome.
public struct RequestTraceMiddleware<Context: BuildchainRequestContext>: RouterMiddleware {
    public init() {}

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let requestID = request.headers[.requestID].flatMap(Self.saneRequestID) ?? UUID.random().uuidString.lowercased()
        let incoming = request.headers[.traceparent].flatMap(TraceParent.init(header:))
        let span = (incoming ?? TraceParent.random()).child()
        context.requestID = requestID
        context.traceID = span.traceID
        context.logger[metadataKey: "request.id"] = "\(requestID)"
        context.logger[metadataKey: "trace.id"] = "\(span.traceID)"
        let started = ContinuousClock.now
        let outbound = [("x-request-id", requestID), ("traceparent", span.header)]
        var response = try await OutboundTrace.$headers.withValue(outbound) {
            try await next(request, context)
        }
        response.headers[.requestID] = requestID
        response.headers[.traceparent] = span.header
        let elapsed = ContinuousClock.now - started
        context.logger.info(
            "request",
            metadata: [
                "http.method": "\(request.method.rawValue)", "http.path": "\(request.uri.path)",
                "http.status": "\(response.status.code)",
                "elapsed_ms": "\(elapsed.wholeMilliseconds)",
            ])
        return response
    }

    static func saneRequestID(_ value: String) -> String? {
        guard (1...128).contains(value.utf8.count),
            value.utf8.allSatisfy({ $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") })
        else { return nil }
        return value
    }
}

extension HTTPField.Name {
    static let requestID = Self("X-Request-Id")!
    static let traceparent = Self("traceparent")!
}

extension UInt8 {
    var isASCIIAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
