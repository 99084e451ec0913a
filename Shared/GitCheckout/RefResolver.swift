import PathBytes

/// Resolves a ref to the full commit SHA in a mirror: `refs/heads/<ref>`, then
/// `refs/tags/<ref>` (annotated tags peeled), then the ref as a (short) SHA;
/// a full ref (`refs/…`) is taken literally, `HEAD` is the remote's default branch.
struct RefResolver: Sendable {
    struct Resolution: Sendable, Hashable {
        let commit: String
        /// The full ref name that matched; nil when the ref was a SHA.
        let refName: String?
        /// The committer time, seconds since 1970: every time stamp in the context tarball.
        let commitTime: Int64
    }

    let git: GitCommand
    let mirror: String

    /// Where a fetch of the remote's `HEAD` is stored in the mirror.
    static let remoteHead = "refs/buildchain/remote-HEAD"

    static func candidates(for ref: String) -> [String] {
        if ref == "HEAD" { return [remoteHead] }
        if ref.bytesStart(with: "refs/") { return [ref] }
        var candidates = ["refs/heads/\(ref)", "refs/tags/\(ref)"]
        if isSHALike(ref) { candidates.append(ref) }
        return candidates
    }

    /// `git show` rather than `rev-parse --verify`: the same lookup, and the commit time in the same run.
    func resolve(_ ref: String) async throws -> Resolution? {
        for candidate in Self.candidates(for: ref) {
            let output = try await git.run(
                "show",
                [
                    "show", "--no-patch", "--no-notes", "--format=%H %ct", "--end-of-options", "\(candidate)^{commit}",
                    "--",
                ],
                gitDir: mirror, check: false)
            let fields = output.stdout.split(separator: "\n").first?.split(separator: " ") ?? []
            guard output.succeeded, fields.count == 2, Self.isFullSHA(fields[0]), let time = Int64(fields[1]) else {
                continue
            }
            let refName: String? =
                if candidate == Self.remoteHead { "HEAD" } else if candidate == ref, Self.isSHALike(ref) { nil } else {
                    candidate
                }
            return Resolution(commit: String(fields[0]), refName: refName, commitTime: time)
        }
        return nil
    }

    /// 4 to 64 hex digits: what git accepts as an abbreviated or full object name.
    static func isSHALike(_ text: some StringProtocol) -> Bool {
        (4...64).contains(text.utf8.count) && text.utf8.allSatisfy(isHexDigit)
    }

    /// A SHA-1 (40) or SHA-256 (64) object name.
    static func isFullSHA(_ text: some StringProtocol) -> Bool {
        (text.utf8.count == 40 || text.utf8.count == 64) && text.utf8.allSatisfy(isHexDigit)
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }
}
