import Foundation
import Logging
import TraceContext

/// The one outbound HTTP client of every service: libcurl underneath,
/// async/await on top, bodies streamed both ways. Every request of a client runs on one
/// libcurl multi handle driven by one thread (`CurlMultiDriver`), however many are in flight.
public final class HTTPClient: Sendable {
    public struct Configuration: Sendable {
        public var connectTimeout: Duration = .seconds(10)
        /// Abort a transfer that moves no byte for this long.
        public var idleTimeout: Duration = .seconds(120)
        /// Whole-exchange limit for requests that set none; nil: no limit.
        public var defaultTimeout: Duration? = nil
        public var retry = RetryPolicy()
        /// CA certificates to trust instead of the system's (TLS verification stays on).
        public var caBundlePath: String? = nil
        /// Response bytes held before the transfer pauses for a slow reader.
        public var responseBufferBytes = 4 << 20
        /// Easy handles, and idle connections, kept between requests.
        public var idleHandles = 16

        public init() {}
    }

    public let configuration: Configuration
    public let logger: Logger
    private let handles: EasyHandlePool
    private let driver: CurlMultiDriver

    public init(configuration: Configuration = .init(), logger: Logger = Logger(label: "http-client")) {
        self.configuration = configuration
        self.logger = logger
        self.handles = EasyHandlePool(capacity: configuration.idleHandles)
        self.driver = CurlMultiDriver(maxIdleConnections: configuration.idleHandles)
    }

    deinit { driver.stop() }

    /// Sends the request and returns once the response head is in; the body
    /// streams from `response.body`. Retries (with backoff) idempotent
    /// requests that fail to connect or answer 429/502/503/504; the last
    /// attempt's response is returned whatever its status.
    public func execute(_ request: ClientRequest) async throws -> ClientResponse {
        var request = request
        // Task-locals are not visible on the driver thread: bind them here.
        for (name, value) in OutboundTrace.headers where !request.headers.contains(name) {
            request.headers.add(name, value)
        }
        let policy = request.retry ?? configuration.retry
        let retryable = request.body.isReplayable && (request.isIdempotent || policy.retryNonIdempotent)
        let maxAttempts = retryable ? max(1, policy.maxAttempts) : 1
        var attempt = 1
        while true {
            let isLast = attempt >= maxAttempts
            let started = ContinuousClock.now
            let outcome = await attemptOnce(request, acceptRetryableStatus: isLast)
            switch outcome {
            case .response(let response):
                logger.debug(
                    "http exchange",
                    metadata: [
                        "method": "\(request.method)", "url": "\(request.urlForLogs)",
                        "status": "\(response.status)", "attempt": "\(attempt)",
                        "elapsed_ms": "\((ContinuousClock.now - started).milliseconds)",
                    ])
                return response
            case .retryStatus(let status):
                logger.notice(
                    "retrying after status",
                    metadata: ["url": "\(request.urlForLogs)", "status": "\(status)", "attempt": "\(attempt)"])
            case .failure(let error):
                guard error.isTransient, !isLast else { throw error }
                logger.notice(
                    "retrying after failure",
                    metadata: ["url": "\(request.urlForLogs)", "error": "\(error)", "attempt": "\(attempt)"])
            }
            try await Task.sleep(for: policy.backoff(afterAttempt: attempt - 1))
            attempt += 1
        }
    }

    /// Sends the request and reads the whole body (at most `limit` bytes).
    public func send(_ request: ClientRequest, limit: Int = 16 << 20) async throws -> BufferedClientResponse {
        let response = try await execute(request)
        return BufferedClientResponse(head: response.head, body: try await response.collect(upTo: limit))
    }

    /// Streams the response body into a file (created or truncated) and
    /// returns the head. The file is written as the bytes arrive.
    public func download(_ request: ClientRequest, to path: String) async throws -> ClientResponseHead {
        let response = try await execute(request)
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let file = FileHandle(forWritingAtPath: path)
        else {
            response.body.cancel()
            throw HTTPClientError.invalidRequest("cannot write \(path)")
        }
        defer { try? file.close() }
        for try await chunk in response.body {
            try file.write(contentsOf: chunk)
        }
        return response.head
    }

    private enum AttemptOutcome: Sendable {
        case response(ClientResponse)
        case retryStatus(Int)
        case failure(HTTPClientError)
    }

    private func attemptOnce(_ request: ClientRequest, acceptRetryableStatus: Bool) async -> AttemptOutcome {
        if Task.isCancelled { return .failure(.cancelled) }
        let source: (any RequestBodySource)?
        do {
            source = try makeSource(for: request)
        } catch {
            return .failure(error as? HTTPClientError ?? .bodySourceFailed("\(error)"))
        }
        let handle = handles.take()
        let outcome = OneShot<AttemptOutcome>()
        let transfer = CurlTransfer(
            handle: handle, driver: driver, request: request, settings: configuration, source: source,
            onHead: { head, body in
                if !acceptRetryableStatus && RetryPolicy.retryableStatuses.contains(head.status) {
                    return false
                }
                outcome.resolve(.response(ClientResponse(head: head, body: ClientResponseBody(buffer: body))))
                return true
            },
            onEnd: { [handles] ended in
                handles.give(handle)
                switch ended {
                case .delivered: break  // the body carries the result
                case .declined(let status): outcome.resolve(.retryStatus(status))
                case .failed(let error): outcome.resolve(.failure(error))
                }
            })
        transfer.start()
        return await withTaskCancellationHandler {
            await outcome.value()
        } onCancel: {
            transfer.cancel()
        }
    }

    private func makeSource(for request: ClientRequest) throws -> (any RequestBodySource)? {
        switch request.body {
        case .none:
            let method = request.method.uppercased()
            return ["GET", "HEAD", "DELETE", "OPTIONS"].contains(method) ? nil : BytesBodySource([])
        case .bytes(let bytes): return BytesBodySource(bytes)
        case .file(let path, let offset, let length): return try FileBodySource(path: path, offset: offset, length: length)
        case .stream(let stream, let length): return StreamBodySource(stream, length: length)
        }
    }
}
