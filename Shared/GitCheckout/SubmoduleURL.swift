import Foundation

/// A submodule URL as `.gitmodules` gives it: resolved against its superproject's
/// URL as git resolves it, then held to the same policy as any repository.
enum SubmoduleURL {
    /// The repository `raw` names for a submodule of `superproject`.
    ///
    /// A relative URL (`./`, `../`) resolves as git's `relative_url` does, and may not
    /// change the transport: walking up past the host into `https:` yields an scp-style
    /// address git would hand to ssh. An absolute local path is a `file://` URL, allowed
    /// only where the policy allows file URLs.
    static func repository(_ raw: String, superproject: RepositoryURL, policy: RepositoryPolicy)
        throws(CheckoutError) -> RepositoryURL
    {
        if isRelative(raw) {
            let resolved = try resolve(raw, against: superproject.text)
            let url = try checked(resolved, by: policy, shownAs: "resolves to \(shown(resolved))")
            guard url.transport == superproject.transport else {
                throw refuse(
                    "resolves to \(shown(resolved)): leaves the superproject's transport (\(superproject.transport.rawValue))")
            }
            return url
        }
        if raw.hasPrefix("/") {
            guard policy.allowFileURLs else { throw refuse("local paths are not allowed") }
            return try checked("file://\(raw)", by: policy, shownAs: nil)
        }
        return try checked(raw, by: policy, shownAs: nil)
    }

    /// The policy's verdict on `text`, its refusal reported for the field `url`.
    private static func checked(_ text: String, by policy: RepositoryPolicy, shownAs prefix: String?)
        throws(CheckoutError) -> RepositoryURL
    {
        do {
            return try policy.repositoryURL(text)
        } catch {
            guard case .invalidRequest(_, let reason) = error else { throw error }
            throw refuse(prefix.map { "\($0): \(reason)" } ?? reason)
        }
    }

    static func isRelative(_ raw: String) -> Bool { raw.hasPrefix("./") || raw.hasPrefix("../") }

    /// git's `relative_url` (remote.c) for an absolute superproject URL: each leading `../`
    /// drops the last `/`-separated part of the base, or, when none is left, the part after
    /// the last `:` (the rest then joins with `:`); `./` is skipped.
    static func resolve(_ relative: String, against base: String) throws(CheckoutError) -> String {
        var remote = Substring(base)
        if remote.hasSuffix("/") { remote = remote.dropLast() }
        var url = Substring(relative)
        var colonSeparated = false
        while true {
            if url.hasPrefix("../") {
                url = url.dropFirst(3)
                if let slash = remote.lastIndex(of: "/") {
                    remote = remote[..<slash]
                } else if let colon = remote.lastIndex(of: ":") {
                    remote = remote[..<colon]
                    colonSeparated = true
                } else if remote == "." {
                    throw refuse("goes above the root of \(base) (git: cannot strip one component off url)")
                } else {
                    remote = "."
                }
            } else if url.hasPrefix("./") {
                url = url.dropFirst(2)
            } else {
                break
            }
        }
        var resolved = "\(remote)\(colonSeparated ? ":" : "/")\(url)"
        if url.hasSuffix("/") { resolved.removeLast() }
        return resolved.hasPrefix("./") ? String(resolved.dropFirst(2)) : resolved
    }

    /// `raw` fit for a message: the user-info of a `scheme://user:secret@host` URL replaced
    /// by `***` (an SSH login name without a password stays), control characters escaped,
    /// and at most 300 characters.
    static func shown(_ raw: String) -> String {
        var text = Substring(raw)
        var redacted = ""
        if let separator = text.range(of: "://") {
            let scheme = text[..<separator.lowerBound].lowercased()
            let rest = text[separator.upperBound...]
            let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
            if let at = rest[..<authorityEnd].lastIndex(of: "@") {
                let userinfo = rest[..<at]
                let keep = scheme == "ssh" && !userinfo.contains(":")
                redacted = String(text[..<separator.upperBound]) + (keep ? String(userinfo) : "***")
                text = rest[at...]
            }
        }
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7f {
                redacted += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                redacted.unicodeScalars.append(scalar)
            }
        }
        guard redacted.count > 300 else { return redacted }
        return redacted.prefix(300) + "…"
    }

    private static func refuse(_ reason: String) -> CheckoutError {
        .invalidRequest(field: "url", reason: reason)
    }
}
