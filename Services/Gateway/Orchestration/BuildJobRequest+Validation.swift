import Foundation
import GatewayAPI
import OCI
import PathBytes

/// A field of a build request that cannot be right, whatever the services say.
public struct InvalidBuildRequest: Error, Sendable, Equatable {
    public var field: String
    public var reason: String
}

extension BuildJobRequest {
    /// Checks what the gateway can check before recording the job and openapi/gateway.yaml
    /// cannot say (its limits — names, lengths, the patterns of `target` and of build-arg and
    /// secret names — are checked against the spec); the stage services check the rest (the
    /// repository policy, whether the ref exists…) and fail the job with their code.
    public func validate() throws(InvalidBuildRequest) {
        let url = repository.url
        guard !url.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7f }) else {
            throw InvalidBuildRequest(field: "repository.url", reason: "must be a repository URL without spaces")
        }
        if Self.carriesCredentials(url) {
            throw InvalidBuildRequest(
                field: "repository.url", reason: "must not carry credentials; the checkout service holds them")
        }
        let ref = repository.ref
        guard ref.utf8.count <= 255, !ref.bytesStart(with: "-"),
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
        for name in (secretBuildArgs?.additionalProperties ?? [:]).keys.sorted()
        where buildArgs?.additionalProperties[name] != nil {
            throw InvalidBuildRequest(field: "secret_build_args.\(name)", reason: "is also in build_args; give it once")
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
}
