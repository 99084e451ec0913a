public struct ClientResponseHead: Sendable {
    public let status: Int
    public let headers: HTTPHeaders
    /// Connections libcurl had to open for this exchange (0 when one was reused).
    public internal(set) var newConnections: Int = 0

    public init(status: Int, headers: HTTPHeaders) {
        self.status = status
        self.headers = headers
    }
}

/// A response whose body is still arriving. Read `body` once.
public struct ClientResponse: Sendable {
    public let head: ClientResponseHead
    public let body: ClientResponseBody

    public var status: Int { head.status }
    public var headers: HTTPHeaders { head.headers }

    /// Reads the whole body; throws `bodyTooLarge` beyond `limit` bytes.
    public func collect(upTo limit: Int) async throws -> [UInt8] {
        var bytes = [UInt8]()
        for try await chunk in body {
            guard bytes.count + chunk.count <= limit else {
                body.cancel()
                throw HTTPClientError.bodyTooLarge(limit: limit)
            }
            bytes.append(contentsOf: chunk)
        }
        return bytes
    }

    public func collectString(upTo limit: Int = 1 << 20) async throws -> String {
        String(decoding: try await collect(upTo: limit), as: UTF8.self)
    }
}

/// A response read into memory.
public struct BufferedClientResponse: Sendable {
    public let head: ClientResponseHead
    public let body: [UInt8]

    public init(head: ClientResponseHead, body: [UInt8]) {
        self.head = head
        self.body = body
    }

    public var status: Int { head.status }
    public var headers: HTTPHeaders { head.headers }
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// The body chunks of one response as libcurl delivers them, with
/// backpressure: the transfer pauses while the reader is behind.
public final class ClientResponseBody: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    let buffer: ResponseBodyBuffer

    init(buffer: ResponseBodyBuffer) { self.buffer = buffer }

    deinit { buffer.abandon() }

    /// Stops the transfer; the remaining body is discarded.
    public func cancel() { buffer.abandon() }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let body: ClientResponseBody

        public mutating func next() async throws -> [UInt8]? {
            try await body.buffer.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(body: self) }
}
