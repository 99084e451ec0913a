/// Checks on keys, paths, refs and names made on their UTF-8 bytes, as the
/// operating system, git, S3 and registries read them.
///
/// Swift's `String` works on `Character`s (grapheme clusters): a `/` followed by a
/// combining mark (U+0301), or preceded by a prepended concatenation mark (U+0600…U+0605,
/// U+06DD, U+070F, U+08E2, U+110BD…), is one `Character` that is not `"/"`, so
/// `split(separator: "/")`, `hasPrefix("/")`, `contains("\0")` and `== ".."` do not see the
/// separator the kernel sees; and `==`/`hasPrefix` between strings compare by canonical
/// equivalence, so two different byte sequences (two different file names) can compare equal.
/// Every security check on such text goes through these instead.
extension StringProtocol {
    /// The parts between `/` bytes (a `/` byte never occurs inside a multi-byte UTF-8 sequence).
    public func slashSegments(omittingEmpty: Bool = false) -> [Substring] {
        parts(separatedBy: "/", omittingEmpty: omittingEmpty)
    }

    /// The parts between bytes of the ASCII character `separator`.
    public func parts(separatedBy separator: Unicode.Scalar, omittingEmpty: Bool = false) -> [Substring] {
        let text = String(self)
        return text.utf8.split(separator: UInt8(ascii: separator), omittingEmptySubsequences: omittingEmpty)
            .map { Substring($0) }
    }

    /// The text before the last `/` byte (a path's parent); nil when there is no `/`.
    public var beforeLastSlash: Substring? {
        let text = String(self)
        guard let slash = text.utf8.lastIndex(of: UInt8(ascii: "/")) else { return nil }
        return Substring(text.utf8[..<slash])
    }

    /// The text without its first `count` bytes (which must end a scalar, as an ASCII byte does).
    public func droppingFirstBytes(_ count: Int = 1) -> Substring {
        let text = String(self)
        return Substring(text.utf8.dropFirst(count))
    }

    /// The text without its last `count` bytes (which must begin a scalar, as an ASCII byte does).
    public func droppingLastBytes(_ count: Int = 1) -> Substring {
        let text = String(self)
        return Substring(text.utf8.dropLast(count))
    }

    /// Whether the bytes are exactly those of `other`.
    public func bytesEqual(_ other: some StringProtocol) -> Bool { utf8.elementsEqual(other.utf8) }

    /// Whether the bytes begin with those of `prefix`.
    public func bytesStart(with prefix: some StringProtocol) -> Bool { utf8.starts(with: prefix.utf8) }

    /// Whether the bytes end with those of `suffix`.
    public func bytesEnd(with suffix: some StringProtocol) -> Bool {
        utf8.count >= suffix.utf8.count && utf8.reversed().starts(with: suffix.utf8.reversed())
    }

    /// Whether the bytes of `other` occur in these.
    public func containsBytes(_ other: some StringProtocol) -> Bool {
        let haystack = Array(utf8)
        let needle = Array(other.utf8)
        guard !needle.isEmpty else { return true }
        guard needle.count <= haystack.count else { return false }
        return (0...(haystack.count - needle.count)).contains { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    /// Whether the ASCII character `ascii` occurs as a byte (whatever scalars surround it).
    public func containsByte(_ ascii: Unicode.Scalar) -> Bool { utf8.contains(UInt8(ascii: ascii)) }

    /// Whether this is the segment `.` or `..` (bytes, not canonical equivalence).
    public var isDotSegment: Bool { bytesEqual(".") || bytesEqual("..") }

    /// Whether some `/`-separated segment is `..`.
    public var hasDotDotSegment: Bool { slashSegments().contains { $0.bytesEqual("..") } }
}
