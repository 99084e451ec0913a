import PathBytes

/// A `.dockerignore` with Docker's semantics (moby/patternmatcher): patterns are
/// cleaned like Go's `filepath.Clean` with a leading `/` dropped, `!` marks an
/// exception, the last matching pattern wins, and a path is excluded when it or
/// any folder above it matches.
public struct DockerIgnore: Sendable, Hashable {
    struct Rule: Sendable, Hashable {
        let exclusion: Bool
        let pattern: GlobPattern
    }

    /// The patterns as Docker reads them from the file.
    public let patterns: [String]
    private let rules: [Rule]

    /// True when some pattern is an exception (`!…`): an excluded folder may then
    /// still have contents that are kept.
    public var hasExceptions: Bool { rules.contains(where: \.exclusion) }

    /// Parses the text of a `.dockerignore` file like moby's `ignorefile.ReadAll`.
    public init(contents: String) throws(CheckoutError) {
        var patterns: [String] = []
        // Bytes, as Go reads it: "\r\n" is one Character, and a combining mark joins the "/" or "!" before it.
        for (number, rawLine) in contents.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            var line = Substring(rawLine)
            if line.bytesEnd(with: "\r") { line = line.droppingLastBytes() }
            if number == 0, line.bytesStart(with: "\u{FEFF}") { line = line.droppingFirstBytes("\u{FEFF}".utf8.count) }
            if line.bytesStart(with: "#") { continue }
            var pattern = Self.trimmingSpace(line)
            if pattern.isEmpty { continue }
            let invert = pattern.bytesStart(with: "!")
            if invert { pattern = Self.trimmingSpace(pattern.droppingFirstBytes()) }
            if !pattern.isEmpty {
                pattern = Self.clean(pattern)
                if pattern.utf8.count > 1, pattern.bytesStart(with: "/") { pattern = String(pattern.droppingFirstBytes()) }
            }
            patterns.append(invert ? "!" + pattern : pattern)
        }
        try self.init(patterns: patterns)
    }

    /// Compiles patterns like moby's `patternmatcher.New`.
    public init(patterns: [String]) throws(CheckoutError) {
        var rules: [Rule] = []
        for raw in patterns {
            var pattern = Self.trimmingSpace(Substring(raw))
            if pattern.isEmpty { continue }
            pattern = Self.clean(pattern)
            var exclusion = false
            if pattern.bytesStart(with: "!") {
                guard pattern.utf8.count > 1 else { throw .invalidDockerignore(reason: #"illegal exclusion pattern: "!""#) }
                exclusion = true
                pattern = String(pattern.droppingFirstBytes())
            }
            do {
                rules.append(Rule(exclusion: exclusion, pattern: try GlobPattern(pattern)))
            } catch {
                throw .invalidDockerignore(reason: "syntax error in pattern \(raw)")
            }
        }
        self.patterns = patterns
        self.rules = rules
    }

    /// Whether `path` (relative to the context, `/`-separated) is left out of the
    /// context: moby's `MatchesOrParentMatches`.
    public func excludes(_ path: String) -> Bool {
        let components = path.slashSegments(omittingEmpty: true)
        var parents: [String] = []
        if components.count > 1 {
            var parent = ""
            for component in components.dropLast() {
                parent = parent.isEmpty ? String(component) : "\(parent)/\(component)"
                parents.append(parent)
            }
        }
        var matched = false
        for rule in rules where rule.exclusion == matched {
            if rule.pattern.matches(path) || parents.contains(where: rule.pattern.matches) {
                matched = !rule.exclusion
            }
        }
        return matched
    }

    /// Go's `filepath.Clean` for `/`-separated paths.
    static func clean(_ path: String) -> String {
        guard !path.isEmpty else { return "." }
        let rooted = path.bytesStart(with: "/")
        var parts: [Substring] = []
        for part in path.slashSegments(omittingEmpty: true) {
            if part.bytesEqual(".") { continue }
            if part.bytesEqual("..") {
                if let last = parts.last, !last.bytesEqual("..") {
                    parts.removeLast()
                } else if !rooted {
                    parts.append(part)
                }
            } else {
                parts.append(part)
            }
        }
        let joined = parts.joined(separator: "/")
        if rooted { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// Go's `strings.TrimSpace`.
    private static func trimmingSpace(_ text: Substring) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }
}
