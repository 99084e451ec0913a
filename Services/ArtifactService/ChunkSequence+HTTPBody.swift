import OpenAPIRuntime

extension ChunkSequence {
    /// An upload's request body as the byte arrays a backend stores, pulled
    /// from the connection only as the backend asks for them. An error of the
    /// body itself (the client went away, the body was malformed) arrives as
    /// a `RequestBodyFailure`, to be told apart from the store's own.
    init(requestBody body: HTTPBody) {
        self.init {
            var chunks = body.makeAsyncIterator()
            return {
                do {
                    return try await chunks.next().map { Array($0) }
                } catch {
                    throw RequestBodyFailure(underlying: error)
                }
            }
        }
    }
}

struct RequestBodyFailure: Error {
    let underlying: any Error
}
