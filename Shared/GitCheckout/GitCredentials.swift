import Foundation

/// A secret for one host. Printing one shows no secret.
public enum GitCredential: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// HTTPS: `Authorization: Basic base64(username:token)` (GitHub: `x-access-token`,
    /// GitLab: `oauth2`, Bitbucket: `x-token-auth`).
    case token(String, username: String = "x-access-token")
    /// HTTPS: `Authorization: Bearer <token>`.
    case bearer(String)
    /// SSH: a private key file, used with `IdentitiesOnly`.
    case sshKey(path: String)

    public var description: String {
        switch self {
        case .token(_, let username): "token(username: \(username), ***)"
        case .bearer: "bearer(***)"
        case .sshKey(let path): "sshKey(\(path))"
        }
    }

    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [:]) }

    /// The `Authorization` header value, for HTTP credentials.
    var authorizationHeader: String? {
        switch self {
        case .token(let token, let username): "Basic " + Data("\(username):\(token)".utf8).base64EncodedString()
        case .bearer(let token): "Bearer \(token)"
        case .sshKey: nil
        }
    }

    /// Every form in which the secret could show up in output.
    var secrets: [String] {
        switch self {
        case .token(let token, let username):
            [token, "\(username):\(token)", Data("\(username):\(token)".utf8).base64EncodedString()]
                + percentEncoded(token)
        case .bearer(let token): [token] + percentEncoded(token)
        case .sshKey: []
        }
    }

    private func percentEncoded(_ token: String) -> [String] {
        guard let encoded = token.addingPercentEncoding(withAllowedCharacters: .alphanumerics), encoded != token else {
            return []
        }
        return [encoded]
    }
}

/// Credentials for private repositories, from configuration, per host (`host` or
/// `host:port`, lowercase). They reach git through its environment only.
public struct GitCredentials: Sendable, Hashable {
    public var byHost: [String: GitCredential]

    public init(_ byHost: [String: GitCredential] = [:]) {
        self.byHost = Dictionary(byHost.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { $1 })
    }

    /// The credential for `url`'s `host:port`, else for its host.
    func credential(for url: RepositoryURL) -> GitCredential? {
        byHost[url.authority] ?? byHost[url.host]
    }

    var secrets: [String] { byHost.values.flatMap(\.secrets) }
}
