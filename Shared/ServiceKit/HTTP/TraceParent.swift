import Digests

/// A W3C Trace Context `traceparent` header: version 00, 16-byte trace id,
/// 8-byte parent span id, flags.
public struct TraceParent: Sendable, Equatable {
    public let traceID: String
    public let spanID: String
    public let flags: String

    public init?(header: String) {
        let parts = header.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, parts[0] == "00",
            Self.isHex(parts[1], count: 32), Self.isHex(parts[2], count: 16), Self.isHex(parts[3], count: 2),
            parts[1] != String(repeating: "0", count: 32), parts[2] != String(repeating: "0", count: 16)
        else { return nil }
        traceID = parts[1]
        spanID = parts[2]
        flags = parts[3]
    }

    init(traceID: String, spanID: String, flags: String) {
        self.traceID = traceID
        self.spanID = spanID
        self.flags = flags
    }

    public var header: String { "00-\(traceID)-\(spanID)-\(flags)" }

    /// The same trace with a new span: this service's part of it.
    public func child() -> TraceParent { TraceParent(traceID: traceID, spanID: Self.randomHex(bytes: 8), flags: flags) }

    public static func random() -> TraceParent {
        TraceParent(traceID: randomHex(bytes: 16), spanID: randomHex(bytes: 8), flags: "01")
    }

    /// `bytes` random bytes, none zero, in lowercase hex.
    private static func randomHex(bytes: Int) -> String {
        Hex.encode(CryptoRandom.bytes(bytes).map { max($0, 1) })
    }

    private static func isHex(_ text: String, count: Int) -> Bool {
        text.utf8.count == count
            && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
