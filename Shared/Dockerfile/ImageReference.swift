import PathBytes

/// A container image reference, split and normalized the way distribution/reference
/// (`ParseNormalizedNamed`) does it.
///
/// - No registry part means Docker Hub (`docker.io`).
/// - The first path component is a registry only when it contains `.` or `:`, is `localhost`,
///   or has an uppercase letter.
/// - `index.docker.io`, `registry-1.docker.io` and `registry.hub.docker.com` are `docker.io`.
/// - A one-component Docker Hub repository gets `library/`.
/// - Tag and digest are kept as written.
public struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    /// The normalized registry host (with port, if any): `docker.io` for Docker Hub.
    public let registry: String
    /// The normalized repository path: `library/node`, `org/app`.
    public let repository: String
    /// The tag as written, without the `:`.
    public let tag: String?
    /// The digest as written (`sha256:…`), without the `@`.
    public let digest: String?

    /// Parses a reference such as `node:20`, `ghcr.io/org/app@sha256:…` or `localhost:5000/x`.
    public init(parsing text: String) throws(ImageReferenceError) {
        let bytes = Array(text.utf8)
        let syntax = try ReferenceSyntax(bytes, validateSuffix: true)
        registry = syntax.normalizedRegistry
        repository = syntax.normalizedRepository
        tag = syntax.tag.map { String(decoding: bytes[$0], as: UTF8.self) }
        digest = syntax.digest.map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    /// Whether the image lives on Docker Hub.
    public var isDockerHub: Bool { registry == ImageReference.dockerHub }

    /// `registry/repository`, fully qualified.
    public var name: String { "\(registry)/\(repository)" }

    /// The fully qualified reference: `docker.io/library/node:20`.
    public var description: String {
        var text = name
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        return text
    }

    /// Docker Hub's canonical registry name.
    public static let dockerHub = "docker.io"

    /// Maps the Docker Hub aliases to `docker.io`; other hosts are returned lowercased.
    static func normalizeRegistry(_ host: String) -> String {
        let lower = host.lowercased()
        switch lower {
        case "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
            return dockerHub
        default:
            return lower
        }
    }
}

/// Why a text is not an image reference.
public struct ImageReferenceError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reference: String
    public let reason: String

    public var description: String { "invalid image reference \"\(reference)\": \(reason)" }
}

/// The byte-level syntax of a reference: where the registry, name, tag and digest are.
///
/// Works on UTF-8 bytes so that the rewriter can locate each part inside the Dockerfile.
/// With `validateSuffix: false`, the tag and digest are located but not validated (the
/// rewriter uses this when they contain variables it cannot resolve).
struct ReferenceSyntax {
    /// The registry as written (`nil` when implicit).
    var registry: Range<Int>?
    /// The repository path as written.
    var path: Range<Int>
    /// End of `registry/path`: where a tag or digest begins.
    var nameEnd: Int
    var tag: Range<Int>?
    var digest: Range<Int>?
    private var registryText: String?
    private var pathText: String

    init(_ b: [UInt8], validateSuffix: Bool) throws(ImageReferenceError) {
        func fail(_ reason: String) -> ImageReferenceError {
            ImageReferenceError(reference: String(decoding: b, as: UTF8.self), reason: reason)
        }
        if b.isEmpty { throw fail("empty") }
        var end = b.count
        if let at = b.firstIndex(of: UInt8(ascii: "@")) {
            digest = (at + 1)..<b.count
            end = at
        }
        var lastSlash = -1
        for i in 0..<end where b[i] == UInt8(ascii: "/") { lastSlash = i }
        var nameEnd = end
        if let colon = b[(lastSlash + 1)..<end].lastIndex(of: UInt8(ascii: ":")) {
            tag = (colon + 1)..<end
            nameEnd = colon
        }
        self.nameEnd = nameEnd
        if nameEnd == 0 { throw fail("missing repository name") }
        if nameEnd > 255 { throw fail("repository name must not be longer than 255 characters") }

        // Registry detection, as splitDockerDomain.
        var pathStart = 0
        if let slash = b[0..<nameEnd].firstIndex(of: UInt8(ascii: "/")) {
            let first = b[0..<slash]
            let looksLikeHost =
                first.contains(UInt8(ascii: ".")) || first.contains(UInt8(ascii: ":"))
                || first.elementsEqual("localhost".utf8)
                || first.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") })
            if looksLikeHost {
                guard Self.isValidHost(first) else { throw fail("invalid registry host") }
                registry = 0..<slash
                pathStart = slash + 1
            }
        }
        path = pathStart..<nameEnd
        guard Self.isValidPath(b[path]) else {
            let hasUpper = b[path].contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") })
            throw fail(hasUpper ? "repository name must be lowercase" : "invalid repository path")
        }
        if validateSuffix {
            if let tag, !Self.isValidTag(b[tag]) { throw fail("invalid tag") }
            if let digest, !Self.isValidDigest(b[digest]) { throw fail("invalid digest") }
        }
        registryText = registry.map { String(decoding: b[$0], as: UTF8.self) }
        pathText = String(decoding: b[path], as: UTF8.self)
    }

    var normalizedRegistry: String {
        registryText.map(ImageReference.normalizeRegistry) ?? ImageReference.dockerHub
    }

    /// Whether Docker Hub's `library/` must be added in front of the path.
    var needsLibraryPrefix: Bool {
        normalizedRegistry == ImageReference.dockerHub && !pathText.containsByte("/")
    }

    var normalizedRepository: String { needsLibraryPrefix ? "library/" + pathText : pathText }

    // MARK: grammar

    private static func isAlnumLower(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
    }

    private static func isAlnum(_ c: UInt8) -> Bool {
        isAlnumLower(c) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    /// `host[:port]`, host being domain components joined by `.`, or a bracketed IPv6 address.
    static func isValidHost(_ s: ArraySlice<UInt8>) -> Bool {
        var host = s
        if let colon = s.lastIndex(of: UInt8(ascii: ":")), s.first != UInt8(ascii: "[") || s[colon - 1] == UInt8(ascii: "]") {
            let port = s[(colon + 1)...]
            guard !port.isEmpty, port.allSatisfy(isDigit) else { return false }
            host = s[..<colon]
        }
        if host.first == UInt8(ascii: "[") {
            guard host.count > 2, host.last == UInt8(ascii: "]") else { return false }
            return host.dropFirst().dropLast().allSatisfy {
                isAlnum($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".")
            }
        }
        guard !host.isEmpty else { return false }
        for component in host.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard let first = component.first, let last = component.last, isAlnum(first), isAlnum(last),
                component.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: "-") })
            else { return false }
        }
        return true
    }

    /// Path components `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` joined by `/`.
    static func isValidPath(_ s: ArraySlice<UInt8>) -> Bool {
        guard !s.isEmpty else { return false }
        for component in s.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            guard let first = component.first, let last = component.last, isAlnumLower(first), isAlnumLower(last)
            else { return false }
            var i = component.startIndex
            while i < component.endIndex {
                let c = component[i]
                if isAlnumLower(c) {
                    i += 1
                    continue
                }
                // A separator: ".", "_", "__" or a run of "-".
                var j = i
                if c == UInt8(ascii: ".") {
                    j += 1
                } else if c == UInt8(ascii: "_") {
                    j += 1
                    if j < component.endIndex && component[j] == UInt8(ascii: "_") { j += 1 }
                } else if c == UInt8(ascii: "-") {
                    while j < component.endIndex && component[j] == UInt8(ascii: "-") { j += 1 }
                } else {
                    return false
                }
                guard j < component.endIndex, isAlnumLower(component[j]) else { return false }
                i = j
            }
        }
        return true
    }

    /// `[\w][\w.-]{0,127}`.
    static func isValidTag(_ s: ArraySlice<UInt8>) -> Bool {
        guard let first = s.first, s.count <= 128, isAlnum(first) || first == UInt8(ascii: "_") else { return false }
        return s.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    /// `algorithm:hex`, algorithm components `[A-Za-z][A-Za-z0-9]*` joined by `+ . _ -`,
    /// hex at least 32 digits.
    static func isValidDigest(_ s: ArraySlice<UInt8>) -> Bool {
        guard let colon = s.firstIndex(of: UInt8(ascii: ":")) else { return false }
        let algorithm = s[..<colon]
        let hex = s[(colon + 1)...]
        guard hex.count >= 32, hex.allSatisfy({ isDigit($0) || (($0 | 0x20) >= UInt8(ascii: "a") && ($0 | 0x20) <= UInt8(ascii: "f")) })
        else { return false }
        var expectLetter = true
        for c in algorithm {
            let isLetter = (c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z")
            if expectLetter {
                guard isLetter else { return false }
                expectLetter = false
            } else if c == UInt8(ascii: "+") || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") {
                expectLetter = true
            } else if !(isLetter || isDigit(c)) {
                return false
            }
        }
        return !algorithm.isEmpty && !expectLetter
    }
}
