import Foundation
import PathBytes

/// A repository location that passed `RepositoryPolicy`: parsed, without
/// credentials, and normalized (scheme and host lowercased, default port and
/// trailing slashes dropped). `text` is what git is given and what the mirror
/// cache is keyed by.
public struct RepositoryURL: Sendable, Hashable, CustomStringConvertible {
    public enum Transport: String, Sendable, CaseIterable {
        case https, http, ssh, git, file
    }

    public let transport: Transport
    /// Lowercased host name, an IPv6 address in brackets, or "" for `file`.
    public let host: String
    public let port: Int?
    /// The SSH login name (`git` in `git@host:path`); never set for other transports.
    public let user: String?
    public let path: String
    public let text: String

    public var description: String { text }

    /// `host` or `host:port`: the key credentials are configured under.
    public var authority: String { port.map { "\(host):\($0)" } ?? host }

    /// Whether credentials for this repository may go to `other` too: the same transport,
    /// host and port, and for SSH the same login.
    func hasSameOrigin(as other: RepositoryURL) -> Bool {
        transport == other.transport && host == other.host && port == other.port && user == other.user
    }

    /// Parses `raw` and applies the URL rules of `policy`.
    static func parse(_ raw: String, allowing transports: Set<Transport>) throws(CheckoutError) -> RepositoryURL {
        guard !raw.isEmpty else { throw refuse("must not be empty") }
        guard raw.utf8.count <= 4096 else { throw refuse("is too long") }
        guard !raw.bytesStart(with: "-") else { throw refuse("must not begin with '-'") }
        guard !raw.unicodeScalars.contains(where: isControlOrSpace) else {
            throw refuse("must not contain control characters or whitespace")
        }
        guard !hasRemoteHelperPrefix(raw) else { throw refuse("remote helpers ('<transport>::') are not allowed") }
        guard !hasEncodedControlCharacter(raw) else { throw refuse("must not contain encoded control characters") }

        if let separator = raw.range(of: "://") {
            let scheme = raw[..<separator.lowerBound].lowercased()
            guard let transport = Transport(rawValue: scheme), transports.contains(transport) else {
                throw refuse("scheme '\(scheme)' is not allowed")
            }
            return try parseURLForm(transport: transport, rest: raw[separator.upperBound...])
        }
        guard isSCPLike(raw) else { throw refuse("local paths are not allowed") }
        guard transports.contains(.ssh) else { throw refuse("scheme 'ssh' is not allowed") }
        return try parseSCPLike(raw)
    }

    private static func parseURLForm(transport: Transport, rest: Substring) throws(CheckoutError) -> RepositoryURL {
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        var authority = rest[..<slash]
        let rawPath = rest[slash...]
        guard !rawPath.contains("?"), !rawPath.contains("#") else { throw refuse("must not have a query or fragment") }
        var user: String?
        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            // Credentials come from configuration only; a login name is part of an SSH address.
            guard transport == .ssh, !userinfo.contains(":") else {
                throw refuse("credentials in the URL are not allowed; configure them per host")
            }
            user = try validUser(userinfo)
            authority = authority[authority.index(after: at)...]
        }
        let path = trimmingTrailingSlashes(rawPath)
        if transport == .file {
            guard authority.isEmpty || authority.lowercased() == "localhost" else {
                throw refuse("a file URL must not name a host")
            }
            guard path.count > 1 else { throw refuse("has no repository path") }
            return RepositoryURL(transport: .file, host: "", port: nil, user: nil, path: path, text: "file://\(path)")
        }
        let (host, port) = try hostAndPort(authority, transport: transport)
        guard path.count > 1 else { throw refuse("has no repository path") }
        let text = "\(transport.rawValue)://\(user.map { "\($0)@" } ?? "")\(host)\(port.map { ":\($0)" } ?? "")\(path)"
        return RepositoryURL(transport: transport, host: host, port: port, user: user, path: path, text: text)
    }

    /// `[user@]host:path`, git's short form of an SSH address.
    private static func parseSCPLike(_ raw: String) throws(CheckoutError) -> RepositoryURL {
        var hostPart: Substring
        var path: Substring
        if raw.hasPrefix("["), let close = raw.firstIndex(of: "]") {
            let afterClose = raw.index(after: close)
            guard afterClose < raw.endIndex, raw[afterClose] == ":" else { throw refuse("is not a valid address") }
            hostPart = raw[...close]
            path = raw[raw.index(after: afterClose)...]
        } else {
            let colon = raw.firstIndex(of: ":")!
            hostPart = raw[..<colon]
            path = raw[raw.index(after: colon)...]
        }
        var user: String?
        if let at = hostPart.lastIndex(of: "@") {
            user = try validUser(hostPart[..<at])
            hostPart = hostPart[hostPart.index(after: at)...]
        }
        let (host, _) = try hostAndPort(hostPart, transport: .ssh, allowPort: false)
        // `file:/etc` or `https:host/x` (a relative URL walked up past its host): git would ssh to "file".
        guard Transport(rawValue: host) == nil else {
            throw refuse("'\(host):' without '//' is an ssh address of the host '\(host)'")
        }
        let trimmed = trimmingTrailingSlashes(path)
        guard !trimmed.isEmpty, trimmed != "/" else { throw refuse("has no repository path") }
        guard !trimmed.bytesStart(with: "-") else { throw refuse("path must not begin with '-'") }
        guard !trimmed.containsByte(":") else { throw refuse("path must not contain ':'") }
        let text = "\(user.map { "\($0)@" } ?? "")\(host):\(trimmed)"
        return RepositoryURL(transport: .ssh, host: host, port: nil, user: user, path: trimmed, text: text)
    }

    private static func hostAndPort(_ authority: Substring, transport: Transport, allowPort: Bool = true)
        throws(CheckoutError) -> (String, Int?)
    {
        guard !authority.isEmpty else { throw refuse("has no host") }
        var hostPart = authority
        var portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw refuse("has an unterminated IPv6 address") }
            hostPart = authority[...close]
            let rest = authority[authority.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw refuse("has an invalid host") }
                portPart = rest.dropFirst()
            }
            let inside = hostPart.dropFirst().dropLast()
            guard !inside.isEmpty, inside.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw refuse("has an invalid IPv6 address")
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
            guard !hostPart.isEmpty else { throw refuse("has no host") }
        }
        let host = hostPart.lowercased()
        if !host.hasPrefix("[") {
            guard host.utf8.count <= 253, !host.hasPrefix("-"), !host.hasPrefix("."),
                host.unicodeScalars.allSatisfy({ isHostCharacter($0) })
            else { throw refuse("has an invalid host") }
        }
        guard let portPart else { return (host, nil) }
        guard allowPort, !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy({ $0.isASCII && $0.isNumber }),
            let port = Int(portPart), (1...65535).contains(port)
        else { throw refuse("has an invalid port") }
        return (host, port == defaultPort(transport) ? nil : port)
    }

    private static func defaultPort(_ transport: Transport) -> Int? {
        switch transport {
        case .https: 443
        case .http: 80
        case .ssh: 22
        case .git: 9418
        case .file: nil
        }
    }

    private static func validUser(_ user: Substring) throws(CheckoutError) -> String {
        guard !user.isEmpty, !user.hasPrefix("-"),
            user.unicodeScalars.allSatisfy({ isHostCharacter($0) || ("A"..."Z").contains($0) })
        else { throw refuse("has an invalid user name") }
        return String(user)
    }

    private static func isHostCharacter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "." || scalar == "-" || scalar == "_"
    }

    static func isControlOrSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7f || scalar.properties.isWhitespace
    }

    /// git's rule: scheme characters followed by `::` select a remote helper (`ext::`, `fd::`…).
    private static func hasRemoteHelperPrefix(_ raw: String) -> Bool {
        let scalars = Array(raw.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            let isLetter = ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
            let isLater = ("0"..."9").contains(scalar) || scalar == "+" || scalar == "." || scalar == "-"
            guard isLetter || (index > 0 && isLater) else { break }
            index += 1
        }
        return index > 0 && scalars[index...].starts(with: [":", ":"] as [Unicode.Scalar])
    }

    private static func hasEncodedControlCharacter(_ raw: String) -> Bool {
        let bytes = Array(raw.utf8)
        for index in bytes.indices where bytes[index] == UInt8(ascii: "%") && index + 2 < bytes.count {
            let high = bytes[index + 1]
            let low = bytes[index + 2]
            if high == UInt8(ascii: "0") || high == UInt8(ascii: "1") { return true }
            if high == UInt8(ascii: "7"), low == UInt8(ascii: "f") || low == UInt8(ascii: "F") { return true }
        }
        return false
    }

    /// git treats `host:path` as SSH unless a `/` comes before the first `:`.
    private static func isSCPLike(_ raw: String) -> Bool {
        guard let colon = raw.firstIndex(of: ":") else { return false }
        if let slash = raw.firstIndex(of: "/"), slash < colon { return false }
        return true
    }

    private static func trimmingTrailingSlashes(_ path: Substring) -> String {
        var path = path
        while path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
        return String(path)
    }

    private static func refuse(_ reason: String) -> CheckoutError {
        .invalidRequest(field: "repository", reason: reason)
    }
}
