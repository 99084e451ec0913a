import HTTPClient

/// Where artifact bytes live. An upload streams into the backend, which
/// hashes it as it arrives and stores it only once it is whole and, when the
/// client named a digest, only if it has that digest.
protocol ArtifactBackend: Sendable {
    /// Stores `chunks` under `key`. After this returns the object is
    /// complete; before, and after any failure, readers see the old one or
    /// none, never a part. Throws `ArtifactUploadError.digestMismatch` when
    /// `expectedSHA256` (lowercase hex) is given and the bytes differ, and
    /// rethrows an error of `chunks` as it is; neither stores anything.
    func store(
        _ chunks: ChunkSequence, as key: ArtifactKey, mediaType: String, expectedSHA256: String?
    ) async throws -> StoredContent

    /// The bytes of `key` (all, or `range`), streamed; nil when absent.
    func read(_ key: ArtifactKey, range: ClosedRange<Int64>?) async throws -> ArtifactStream?

    /// Size of the stored object, nil when absent.
    func size(of key: ArtifactKey) async throws -> Int64?

    func delete(_ key: ArtifactKey) async throws

    /// A URL anyone can GET for `expires`, or nil when the backend has none.
    func presignedURL(for key: ArtifactKey, expires: Duration) throws -> String?

    /// Where temporary files go (uploads to a filesystem store, downloads for pushes).
    var spoolDirectory: String { get }
}

/// What a backend stored: the size and SHA-256 of the bytes it took.
struct StoredContent: Sendable, Equatable {
    let size: Int64
    let sha256: String
}

enum ArtifactUploadError: Error, CustomStringConvertible {
    /// The body's SHA-256 is not the one the client named; nothing was stored.
    case digestMismatch(expected: String, actual: String)
    /// The store answered success but holds another size than was sent; the object was removed.
    case notKept(sent: Int64, stored: Int64?)

    var description: String {
        switch self {
        case .digestMismatch(let expected, let actual): "the upload's SHA-256 is \(actual), not \(expected)"
        case .notKept(let sent, let stored): "sent \(sent) bytes, the store kept \(stored.map(String.init) ?? "nothing")"
        }
    }
}

/// A stored object's bytes as they are read.
struct ArtifactStream: Sendable {
    let totalSize: Int64
    let chunks: ChunkSequence
}

/// Chunks pulled one at a time from their source, only as the reader asks:
/// no read-ahead, so a slow reader (a slow HTTP client, a slow store) holds
/// memory flat.
struct ChunkSequence: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    private let makeNext: @Sendable () -> () async throws -> [UInt8]?

    init(makeNext: @escaping @Sendable () -> () async throws -> [UInt8]?) { self.makeNext = makeNext }

    struct AsyncIterator: AsyncIteratorProtocol {
        let nextChunk: () async throws -> [UInt8]?

        mutating func next() async throws -> [UInt8]? { try await nextChunk() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(nextChunk: makeNext()) }

    static let empty = ChunkSequence { { nil } }
}
