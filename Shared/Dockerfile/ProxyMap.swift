import PathBytes

/// Which proxy-cache project serves each registry: `docker.io` → `harbor.example.com/dockerhub-proxy`.
///
/// Registry keys are normalized (`index.docker.io`, `registry-1.docker.io` and
/// `registry.hub.docker.com` mean `docker.io`; hosts are case-insensitive). A target is a registry
/// host optionally followed by a project path, without a trailing `/`.
public struct ProxyMap: Sendable, Hashable, CustomStringConvertible {
    /// Normalized registry → target (`harbor.example.com/dockerhub-proxy`).
    public let targets: [String: String]
    /// The targets with their hosts normalized, compared with reference names.
    private let normalizedTargets: [String]

    /// Parses `docker.io=harbor.example.com/dockerhub-proxy,ghcr.io=harbor.example.com/ghcr-proxy`.
    /// Spaces around entries are ignored; an empty text is an empty map.
    public init(parsing text: String) throws(ProxyMapError) {
        var entries: [(String, String)] = []
        let trimmed = text.trimmingASCIIWhitespace()
        if !trimmed.isEmpty {
            for rawEntry in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
                let entry = String(rawEntry).trimmingASCIIWhitespace()
                guard let equals = entry.firstIndex(of: "=") else {
                    throw ProxyMapError(entry: entry, reason: "expected REGISTRY=TARGET")
                }
                entries.append((String(entry[..<equals]), String(entry[entry.index(after: equals)...])))
            }
        }
        try self.init(entries: entries)
    }

    /// Builds a map from registry → target pairs, validating and normalizing both.
    public init(_ targets: [String: String]) throws(ProxyMapError) {
        try self.init(entries: targets.sorted { $0.key < $1.key })
    }

    private init(entries: [(String, String)]) throws(ProxyMapError) {
        var targets: [String: String] = [:]
        for (rawRegistry, rawTarget) in entries {
            let entry = "\(rawRegistry)=\(rawTarget)"
            let registry = rawRegistry.trimmingASCIIWhitespace()
            var target = rawTarget.trimmingASCIIWhitespace()
            while target.hasSuffix("/") { target.removeLast() }
            guard !registry.isEmpty else { throw ProxyMapError(entry: entry, reason: "missing registry before \"=\"") }
            guard !target.isEmpty else { throw ProxyMapError(entry: entry, reason: "missing target after \"=\"") }
            guard ReferenceSyntax.isValidHost(ArraySlice(registry.utf8)) else {
                throw ProxyMapError(entry: entry, reason: "\"\(registry)\" is not a registry host")
            }
            let targetBytes = Array(target.utf8)
            let slash = targetBytes.firstIndex(of: UInt8(ascii: "/")) ?? targetBytes.count
            guard ReferenceSyntax.isValidHost(targetBytes[..<slash]) else {
                throw ProxyMapError(entry: entry, reason: "target \"\(target)\" does not start with a registry host")
            }
            if slash < targetBytes.count {
                guard ReferenceSyntax.isValidPath(targetBytes[(slash + 1)...]) else {
                    throw ProxyMapError(
                        entry: entry, reason: "target \"\(target)\" has an invalid project path (lowercase letters, digits, . _ - and /)")
                }
            }
            let key = ImageReference.normalizeRegistry(registry)
            if targets[key] != nil {
                throw ProxyMapError(entry: entry, reason: "registry \(key) appears more than once")
            }
            targets[key] = target
        }
        self.targets = targets
        normalizedTargets = targets.values.map(Self.normalizeTarget).sorted()
    }

    /// The target configured for a registry (any spelling of Docker Hub works).
    public func target(for registry: String) -> String? {
        targets[ImageReference.normalizeRegistry(registry)]
    }

    /// The proxied name of a reference (`<target>/<repository>[:tag][@digest]`), or `nil` when
    /// its registry has no proxy or it already points into one of the targets.
    public func proxiedName(for reference: ImageReference) -> String? {
        guard !isUnderTarget(reference), let target = targets[reference.registry] else { return nil }
        var text = "\(target)/\(reference.repository)"
        if let tag = reference.tag { text += ":\(tag)" }
        if let digest = reference.digest { text += "@\(digest)" }
        return text
    }

    /// Whether a reference already points into one of the targets (`harbor.example.com/dockerhub-proxy/…`).
    ///
    /// Such a reference is never proxied again, even when the target's own host has a proxy
    /// configured: that is what makes rewriting idempotent.
    public func isUnderTarget(_ reference: ImageReference) -> Bool {
        isUnderTarget(registry: reference.registry, repository: reference.repository)
    }

    /// `isUnderTarget` for a normalized registry and repository.
    func isUnderTarget(registry: String, repository: String) -> Bool {
        let name = "\(registry)/\(repository)"
        for target in normalizedTargets where name.bytesEqual(target) || name.bytesStart(with: target + "/") { return true }
        return false
    }

    /// `entries` sorted by registry, in the same syntax `init(parsing:)` reads.
    public var description: String {
        targets.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// A target compared the way reference names are: its host normalized.
    private static func normalizeTarget(_ target: String) -> String {
        guard let slash = target.firstIndex(of: "/") else { return ImageReference.normalizeRegistry(target) }
        return ImageReference.normalizeRegistry(String(target[..<slash])) + target[slash...]
    }
}

/// A malformed proxy map entry.
public struct ProxyMapError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The entry as written.
    public let entry: String
    public let reason: String

    public var description: String { "invalid proxy entry \"\(entry)\": \(reason)" }
}

extension String {
    func trimmingASCIIWhitespace() -> String {
        let bytes = Array(utf8)
        var start = 0
        var end = bytes.count
        while start < end && isASCIISpace(bytes[start]) { start += 1 }
        while end > start && isASCIISpace(bytes[end - 1]) { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}

/// Space, tab, newline, vertical tab, form feed, carriage return.
@inline(__always)
func isASCIISpace(_ c: UInt8) -> Bool {
    c == 0x20 || (c >= 0x09 && c <= 0x0D)
}
