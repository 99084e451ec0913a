/// Where an image lives on a registry: `127.0.0.1:5000/team/app:tag`,
/// `registry.example.com/x/y@sha256:…`. Named apart from the Dockerfile module's
/// `ImageReference` so that a file importing both needs no qualification.
///
/// Normalized like distribution/reference: no registry part means Docker Hub
/// (`docker.io`, where a one-component name gets `library/`); the first
/// component is a registry when it contains `.` or `:` or is `localhost`.
public struct OCIReference: Sendable, Hashable, CustomStringConvertible {
    /// Host, with port if any: `127.0.0.1:5000`, `docker.io`.
    public let registry: String
    /// `team/app`, `library/busybox`.
    public let repository: String
    public let tag: String?
    /// `sha256:<hex>`.
    public let digest: String?

    public init(registry: String, repository: String, tag: String? = nil, digest: String? = nil)
        throws(OCIReferenceError)
    {
        let text = "\(registry)/\(repository)"
        guard Self.isValidRegistry(registry) else { throw OCIReferenceError(text, "invalid registry host") }
        guard Self.isValidRepository(repository) else { throw OCIReferenceError(text, "invalid repository name") }
        if let tag, !Self.isValidTag(tag) { throw OCIReferenceError(text, "invalid tag") }
        if let digest, !Self.isValidDigest(digest) { throw OCIReferenceError(text, "invalid digest") }
        self.registry = Self.normalizeRegistry(registry)
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    public init(parsing text: String) throws(OCIReferenceError) {
        var rest = Substring(text)
        var digest: String?
        if let at = rest.firstIndex(of: "@") {
            digest = String(rest[rest.index(after: at)...])
            rest = rest[..<at]
        }
        var tag: String?
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            tag = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var registry = Self.dockerHub
        if components.count > 1, let first = components.first,
            first.contains(".") || first.contains(":") || first == "localhost"
        {
            registry = first
            components.removeFirst()
        }
        var repository = components.joined(separator: "/")
        if Self.normalizeRegistry(registry) == Self.dockerHub && components.count == 1 {
            repository = "library/" + repository
        }
        do throws(OCIReferenceError) {
            try self.init(registry: registry, repository: repository, tag: tag, digest: digest)
        } catch {
            throw OCIReferenceError(text, error.reason)
        }
    }

    /// What the manifest endpoints take: the digest when there is one, else the tag, else `latest`.
    public var reference: String { digest ?? tag ?? "latest" }

    /// The same repository with another tag and no digest.
    public func withTag(_ tag: String) throws(OCIReferenceError) -> OCIReference {
        try OCIReference(registry: registry, repository: repository, tag: tag)
    }

    public var description: String {
        var text = "\(registry)/\(repository)"
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        return text
    }

    public static let dockerHub = "docker.io"

    /// The host that serves Docker Hub's registry API.
    var apiHost: String { registry == Self.dockerHub ? "registry-1.docker.io" : registry }

    static func normalizeRegistry(_ host: String) -> String {
        switch host.lowercased() {
        case "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com": dockerHub
        default: host.lowercased()
        }
    }

    private static func isValidRegistry(_ host: String) -> Bool {
        !host.isEmpty
            && host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ".-:[]".contains($0)) }
    }

    /// Path components of lowercase alphanumerics joined by `.`, `_`, `__` or runs of `-`.
    private static func isValidRepository(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 255 else { return false }
        return name.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { component in
            guard let first = component.first, let last = component.last,
                isLowerAlphanumeric(first), isLowerAlphanumeric(last)
            else { return false }
            var separator = ""
            for char in component {
                if isLowerAlphanumeric(char) {
                    guard
                        separator.isEmpty || separator == "." || separator == "_" || separator == "__"
                            || separator.allSatisfy({ $0 == "-" })
                    else { return false }
                    separator = ""
                } else if ".-_".contains(char) {
                    separator.append(char)
                } else {
                    return false
                }
            }
            return true
        }
    }

    private static func isLowerAlphanumeric(_ char: Character) -> Bool {
        char.isASCII && (char.isNumber || char.isLowercase)
    }

    private static func isValidTag(_ tag: String) -> Bool {
        guard let first = tag.first, tag.count <= 128, first != ".", first != "-" else { return false }
        return tag.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }
    }

    static func isValidDigest(_ digest: String) -> Bool {
        guard let colon = digest.firstIndex(of: ":") else { return false }
        let algorithm = digest[..<colon]
        let hex = digest[digest.index(after: colon)...]
        guard !algorithm.isEmpty, hex.count >= 32 else { return false }
        let isHex = hex.allSatisfy { $0.isHexDigit && !$0.isUppercase }
        return algorithm == "sha256" ? hex.count == 64 && isHex : isHex
    }
}

public struct OCIReferenceError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reference: String
    public let reason: String

    init(_ reference: String, _ reason: String) {
        self.reference = reference
        self.reason = reason
    }

    public var description: String { "invalid image reference \"\(reference)\": \(reason)" }
}
