import HTTPClient

/// Where artifact bytes live. The service spools every upload to a local
/// file first (hashing it), so a backend stores a complete, verified file.
protocol ArtifactBackend: Sendable {
    /// Moves or copies the spooled file into the store under `key`. After
    /// this returns the object is complete; before, readers see the old one
    /// or none, never a part.
    func store(_ file: SpooledFile, as key: ArtifactKey, mediaType: String) async throws

    /// The bytes of `key` (all, or `range`), streamed; nil when absent.
    func read(_ key: ArtifactKey, range: ClosedRange<Int64>?) async throws -> ArtifactStream?

    /// Size of the stored object, nil when absent.
    func size(of key: ArtifactKey) async throws -> Int64?

    func delete(_ key: ArtifactKey) async throws

    /// A URL anyone can GET for `expires`, or nil when the backend has none.
    func presignedURL(for key: ArtifactKey, expires: Duration) throws -> String?

    /// Where spooled uploads go, so a filesystem store can rename them into place.
    var spoolDirectory: String { get }
}

/// A stored object's bytes as they are read.
struct ArtifactStream: Sendable {
    let totalSize: Int64
    let chunks: ChunkSequence
}

/// Chunks pulled one at a time from their source, only as the reader asks:
/// no read-ahead, so a slow reader (a slow HTTP client) holds memory flat.
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
