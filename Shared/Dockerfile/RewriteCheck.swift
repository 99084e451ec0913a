/// A rewrite the self-check refused: its output would make the build pull something other than
/// what the result reports.
public struct UnsafeRewrite: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line of the instruction.
    public let line: Int
    /// `FROM`, `COPY`, `ADD` or `RUN`.
    public let instruction: String
    /// What the result says is pulled there (the proxied name of the original reference when the
    /// result lists nothing for it).
    public let reported: String
    /// What the rewritten Dockerfile makes the build pull there, once expanded as BuildKit does.
    public let pulled: String

    public var description: String {
        "line \(line): \(instruction) would pull \(pulled), but the rewrite reports \(reported)"
    }
}

/// Compares what a rewritten Dockerfile makes the build pull (`after`, expanded from the new
/// text with the returned build args) with the original's pulls (`before`) and with the result's
/// own `pulledImages`. Every image pulled after must be the proxied name of the image pulled
/// before at the same place (or the same image when its registry has no proxy or it is already
/// proxied), and must be the one the result lists.
enum RewriteCheck {
    static func verify(before: [PullSite], after: [PullSite], reported: [PulledImage], proxies: ProxyMap)
        throws(UnsafeRewrite)
    {
        for (index, site) in after.enumerated() {
            let original = index < before.count ? before[index].kind : nil
            if let problem = mismatch(original, site.kind, proxies: proxies) {
                throw UnsafeRewrite(line: site.line, instruction: site.instruction, reported: problem.expected, pulled: problem.actual)
            }
        }
        if after.count < before.count {
            let missing = before[after.count]
            throw UnsafeRewrite(
                line: missing.line, instruction: missing.instruction, reported: describe(missing.kind), pulled: "nothing")
        }
        // The result's list: every entry that is a valid reference (unresolved ones keep their `$`).
        let listed = reported.filter { (try? ImageReference(parsing: $0.reference)) != nil }
        let images = after.compactMap { site -> PulledImage? in
            guard case .image(let name) = site.kind else { return nil }
            return PulledImage(line: site.line, instruction: site.instruction, reference: name)
        }
        for index in 0..<max(listed.count, images.count) where index >= listed.count || index >= images.count || listed[index] != images[index] {
            let actual = index < images.count ? images[index] : nil
            let claimed = index < listed.count ? listed[index] : nil
            throw UnsafeRewrite(
                line: actual?.line ?? claimed!.line, instruction: actual?.instruction ?? claimed!.instruction,
                reported: claimed?.reference ?? "nothing", pulled: actual?.reference ?? "nothing")
        }
    }

    /// What differs between a site before and after, or `nil` when the rewrite kept its promise.
    private static func mismatch(_ before: PullSite.Kind?, _ after: PullSite.Kind, proxies: ProxyMap)
        -> (expected: String, actual: String)?
    {
        switch (before, after) {
        case (.image(let original), .image(let name)):
            let expected = proxied(original, proxies)
            return expected == name ? nil : (expected, name)
        case (_, .image(let name)):
            // Nothing was pulled there before: only an image that needs no proxy is acceptable.
            return proxied(name, proxies) == name ? nil : (before.map(describe) ?? "nothing", name)
        case (.stage, .stage), (.failed, .failed), (.unknown, .unknown), (.failed, .unknown), (.unknown, .failed):
            return nil
        case (.image(let original), _):
            return (proxied(original, proxies), describe(after))
        default:
            return (before.map(describe) ?? "nothing", describe(after))
        }
    }

    /// The name a build should pull for `name`: its proxied name, or itself when its registry has
    /// no proxy or it already points into one.
    static func proxied(_ name: String, _ proxies: ProxyMap) -> String {
        guard let reference = try? ImageReference(parsing: name) else { return name }
        return proxies.proxiedName(for: reference) ?? name
    }

    private static func describe(_ kind: PullSite.Kind) -> String {
        switch kind {
        case .image(let name): name
        case .stage: "a stage"
        case .unknown(let word): "\(word) (unresolved)"
        case .failed(let word): "\(word) (not a valid reference)"
        }
    }
}
