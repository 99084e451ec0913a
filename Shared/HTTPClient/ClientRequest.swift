/// One outbound HTTP request. The body is streamed to the server; nothing
/// here requires the whole body in memory unless it was given as bytes.
public struct ClientRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: HTTPHeaders
    public var body: ClientRequestBody
    /// Limit on the whole exchange, body included; nil means none (large
    /// artifacts must not be cut off by a fixed total limit).
    public var timeout: Duration?
    /// Overrides the client's retry policy for this request.
    public var retry: RetryPolicy?

    public init(
        method: String = "GET", url: String, headers: HTTPHeaders = [:], body: ClientRequestBody = .none,
        timeout: Duration? = nil, retry: RetryPolicy? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.retry = retry
    }

    var isIdempotent: Bool {
        ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"].contains(method.uppercased())
    }

    /// The URL without its query string: query strings may carry signatures.
    var urlForLogs: String {
        guard let mark = url.firstIndex(of: "?") else { return url }
        return String(url[..<mark]) + "?…"
    }
}

public enum ClientRequestBody: Sendable {
    case none
    case bytes([UInt8])
    /// A region of a file, read as it is sent. `length` nil means to the end.
    case file(path: String, offset: Int64 = 0, length: Int64? = nil)
    /// Chunks produced while the request is sent; `length` nil means chunked
    /// transfer encoding. A stream can be sent once, so it is never retried.
    case stream(ClientBodyStream, length: Int64?)

    public static func string(_ text: String) -> ClientRequestBody { .bytes(Array(text.utf8)) }

    var isReplayable: Bool {
        if case .stream = self { return false }
        return true
    }
}

/// A type-erased async sequence of body chunks. Chunks are pulled from the
/// underlying sequence only as the transfer consumes them (no read-ahead).
public struct ClientBodyStream: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    private let makeNext: @Sendable () -> () async throws -> [UInt8]?

    public init<S: AsyncSequence & Sendable>(_ sequence: S) where S.Element == [UInt8] {
        makeNext = {
            let box = IteratorBox(sequence.makeAsyncIterator())
            return { try await box.next() }
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let nextChunk: () async throws -> [UInt8]?

        public mutating func next() async throws -> [UInt8]? { try await nextChunk() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(nextChunk: makeNext()) }
}

/// Holds an iterator so a closure can advance it; used by one task at a time.
private final class IteratorBox<Iterator: AsyncIteratorProtocol> where Iterator.Element == [UInt8] {
    var iterator: Iterator

    init(_ iterator: Iterator) { self.iterator = iterator }

    func next() async throws -> [UInt8]? { try await iterator.next() }
}

/// When a failed attempt is tried again: only idempotent requests with a
/// replayable body, only on connection failures and 429/502/503/504.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    /// Retry even a non-idempotent method (for calls the caller knows are safe to repeat).
    public var retryNonIdempotent: Bool

    public init(
        maxAttempts: Int = 4, initialBackoff: Duration = .milliseconds(200), maxBackoff: Duration = .seconds(5),
        retryNonIdempotent: Bool = false
    ) {
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.retryNonIdempotent = retryNonIdempotent
    }

    public static let never = RetryPolicy(maxAttempts: 1)

    static let retryableStatuses: Set<Int> = [429, 502, 503, 504]

    /// Exponential backoff with full jitter: a random delay up to min(max, initial·2^n).
    func backoff(afterAttempt attempt: Int) -> Duration {
        let ceiling = min(maxBackoff, initialBackoff * (1 << min(attempt, 20)))
        let millis = ceiling.components.seconds * 1000 + ceiling.components.attoseconds / 1_000_000_000_000_000
        return .milliseconds(Int64.random(in: (millis / 2)...max(millis / 2, millis)))
    }
}
