import Hummingbird

/// A response body that must be exactly `length` bytes, as its Content-Length says.
/// When the store gives fewer or more, writing throws after the bytes that fit, and
/// Hummingbird closes the connection: the client sees a cut-off response at once
/// instead of waiting for bytes that never come.
struct ExactLengthBody: Sendable {
    let chunks: ChunkSequence
    let length: Int64

    func write(to writer: inout any ResponseBodyWriter) async throws {
        var sent: Int64 = 0
        for try await chunk in chunks {
            let fits = Int(min(Int64(chunk.count), length - sent))
            if fits > 0 { try await writer.write(ByteBuffer(bytes: chunk[..<fits])) }
            sent += Int64(chunk.count)
            guard sent <= length else { throw BodyLengthError(promised: length, given: sent) }
        }
        guard sent == length else { throw BodyLengthError(promised: length, given: sent) }
        try await writer.finish(nil)
    }
}

struct BodyLengthError: Error, CustomStringConvertible {
    let promised: Int64
    let given: Int64

    var description: String { "the store gave \(given) bytes for a body of \(promised)" }
}
