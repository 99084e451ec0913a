import PathBytes

/// What makes a string an artifact key: a relative path such as
/// `images/<workload>/<service>/<commit>.tar`, of at most 1024 bytes, without control
/// characters, backslashes, empty, `.` or `..` segments, and no segment longer than a file
/// name may be (255 bytes), whatever the backend. artifact-service stores only such
/// keys; a service given a key to hand to it checks the key the same way before it starts.
/// Checked on bytes (`PathBytes`): a `/` hidden in a `Character` by a combining mark or a
/// prepended concatenation mark is still a separator to the filesystem.
public enum ArtifactKeyRule {
    public static let maxLength = 1024
    public static let maxSegmentLength = 255

    /// Why `key` is not an artifact key; nil when it is one.
    public static func violation(in key: String) -> String? {
        guard !key.isEmpty else { return "is empty" }
        guard key.utf8.count <= maxLength else { return "is longer than \(maxLength) bytes" }
        guard !key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            return "contains a control character"
        }
        guard !key.containsByte("\\") else { return "contains a backslash" }
        for segment in key.slashSegments() {
            if segment.isEmpty { return "has an empty segment (leading, trailing or double slash)" }
            if segment.isDotSegment { return "has a \"\(segment)\" segment" }
            if segment.utf8.count > maxSegmentLength { return "has a segment longer than \(maxSegmentLength) bytes" }
        }
        return nil
    }
}
