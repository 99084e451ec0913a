/// The chunks of a response body that must be exactly `length` bytes, as its Content-Length says.
/// When the store gives fewer or more, iterating throws after the bytes that fit, and
/// Hummingbird closes the connection: the client sees a cut-off response at once
/// instead of waiting for bytes that never come.
struct ExactLengthChunks: AsyncSequence, Sendable {
    typealias Element = ArraySlice<UInt8>
    let chunks: ChunkSequence
    let length: Int64

    struct AsyncIterator: AsyncIteratorProtocol {
        var chunks: ChunkSequence.AsyncIterator
        let length: Int64
        var given: Int64 = 0

        mutating func next() async throws -> ArraySlice<UInt8>? {
            guard given <= length else { throw BodyLengthError(promised: length, given: given) }
            guard let chunk = try await chunks.next() else {
                guard given == length else { throw BodyLengthError(promised: length, given: given) }
                return nil
            }
            let fits = Int(Swift.min(Int64(chunk.count), length - given))
            given += Int64(chunk.count)
            // What fits goes out; the next call throws when the store gave more.
            guard fits > 0 || chunk.isEmpty else { throw BodyLengthError(promised: length, given: given) }
            return chunk[..<fits]
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunks: chunks.makeAsyncIterator(), length: length) }
}

struct BodyLengthError: Error, CustomStringConvertible {
    let promised: Int64
    let given: Int64

    var description: String { "the store gave \(given) bytes for a body of \(promised)" }
}
