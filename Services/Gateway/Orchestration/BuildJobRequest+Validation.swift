import Foundation
import OCI
import PathBytes

/// A field of a build request that cannot be right, whatever the services say.
public struct InvalidBuildRequest: Error, Sendable, Equatable {
    public var field: String
    public var reason: String
}

extension BuildJobRequest {
    /// Checks what the gateway can check before recording the job; the stage services check
    /// the rest (the repository policy, whether the ref exists…) and fail the job with their code.
    public func validate() throws(InvalidBuildRequest) {
        for (field, value) in [("workload", workload), ("service", service)] {
            guard Self.isName(value) else {
                throw InvalidBuildRequest(field: field, reason: "must match ^[a-z0-9][a-z0-9._-]*$ (at most 63 characters)")
            }
        }
        let url = repository.url
        guard !url.isEmpty, url.count <= 2048,
            !url.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7f })
        else {
            throw InvalidBuildRequest(field: "repository.url", reason: "must be a repository URL without spaces")
        }
        if Self.carriesCredentials(url) {
            throw InvalidBuildRequest(
                field: "repository.url", reason: "must not carry credentials; the checkout service holds them")
        }
        let ref = repository.ref
        guard !ref.isEmpty, ref.utf8.count <= 255, !ref.bytesStart(with: "-"),
            !ref.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0 == "\0" })
        else {
            throw InvalidBuildRequest(field: "repository.ref", reason: "must be a branch, tag, commit or ref, not starting with '-'")
        }
        for (field, path) in [("context_path", contextPath), ("dockerfile_path", dockerfilePath)] {
            guard let path else { continue }
            guard !path.isEmpty, !path.bytesStart(with: "/"), !path.bytesStart(with: "-"), !path.hasDotDotSegment,
                !path.containsByte("\0")
            else {
                throw InvalidBuildRequest(field: field, reason: "must be a relative path inside the repository")
            }
        }
        if let target, !Self.isStageName(target) {
            throw InvalidBuildRequest(field: "target", reason: "must be a build stage name")
        }
        for name in (buildArgs ?? [:]).keys where !Self.isArgName(name) {
            throw InvalidBuildRequest(field: "build_args.\(name)", reason: "must be a name of letters, digits and _")
        }
        for name in (secretBuildArgs ?? [:]).keys.sorted() {
            guard Self.isArgName(name), name.utf8.count <= 128 else {
                throw InvalidBuildRequest(field: "secret_build_args.\(name)", reason: "must be a name of letters, digits and _")
            }
            guard buildArgs?[name] == nil else {
                throw InvalidBuildRequest(field: "secret_build_args.\(name)", reason: "is also in build_args; give it once")
            }
        }
        for id in (secrets ?? [:]).keys.sorted() where !Self.isSecretID(id) {
            throw InvalidBuildRequest(
                field: "secrets.\(id)", reason: "must be an id of letters, digits, '.', '_' and '-' (at most 128), starting with a letter or digit")
        }
        if let destination = push?.destination {
            do {
                _ = try OCIReference(parsing: destination)
            } catch {
                throw InvalidBuildRequest(field: "push.destination", reason: "must be an image reference: \(error)")
            }
        }
    }

    /// A password in the URL's userinfo, or any userinfo on http(s) (where it is a token);
    /// `ssh://git@host/…` names a user only and is fine.
    /// On bytes: an `@` or `/` followed by a combining mark is no `Character` of its own.
    static func carriesCredentials(_ url: String) -> Bool {
        let bytes = Array(url.utf8)
        guard let scheme = bytes.indices.first(where: { bytes[$0...].starts(with: "://".utf8) }) else { return false }
        let authority = bytes[(scheme + 3)...].prefix { $0 != UInt8(ascii: "/") }
        guard let at = authority.lastIndex(of: UInt8(ascii: "@")) else { return false }
        return authority[..<at].contains(UInt8(ascii: ":")) || url.lowercased().bytesStart(with: "http")
    }

    static func isName(_ text: String) -> Bool {
        guard let first = text.utf8.first, text.utf8.count <= 63 else { return false }
        return isLowerAlnum(first) && text.utf8.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    static func isStageName(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 128
            && text.utf8.allSatisfy { isLowerAlnum($0) || (65...90).contains($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    static func isArgName(_ text: String) -> Bool {
        guard let first = text.utf8.first, !(48...57).contains(first), text.count <= 256 else { return false }
        return text.utf8.allSatisfy { isLowerAlnum($0) || (65...90).contains($0) || $0 == UInt8(ascii: "_") }
    }

    static func isSecretID(_ text: String) -> Bool {
        guard let first = text.utf8.first, first != UInt8(ascii: "."), first != UInt8(ascii: "-"), first != UInt8(ascii: "_"),
            text.utf8.count <= 128
        else { return false }
        return text.utf8.allSatisfy {
            isLowerAlnum($0) || (65...90).contains($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
    }

    private static func isLowerAlnum(_ byte: UInt8) -> Bool {
        (97...122).contains(byte) || (48...57).contains(byte)
    }
}
