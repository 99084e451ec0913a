import Foundation

/// One registry's login. Secrets never appear in `description` or `dump`.
public struct RegistryCredential: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
    public let username: String?
    public let password: String?
    /// An OAuth2 refresh token (`identitytoken` in config.json), exchanged at the token realm.
    public let identityToken: String?

    public init(username: String, password: String) {
        self.username = username
        self.password = password
        self.identityToken = nil
    }

    public init(identityToken: String, username: String? = nil) {
        self.username = username
        self.password = nil
        self.identityToken = identityToken
    }

    /// `Basic base64(user:password)`, when there is a username and password.
    var basicAuthorization: String? {
        guard let username, let password else { return nil }
        return "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }

    public var description: String {
        let secret = identityToken != nil ? "identity token" : "password"
        return "RegistryCredential(username: \(username ?? "-"), \(secret): <redacted>)"
    }

    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }
}

/// The logins of a docker `config.json` (`auths`), by registry host. Only
/// inline credentials are read: `credsStore` and `credHelpers` are not run.
public struct RegistryCredentials: Sendable, CustomStringConvertible, CustomReflectable {
    private let byHost: [String: RegistryCredential]

    public static let none = RegistryCredentials([:])

    /// Keys may be written as in config.json (`https://index.docker.io/v1/`, `http://host:5000`).
    public init(_ byHost: [String: RegistryCredential]) {
        var normalized: [String: RegistryCredential] = [:]
        for (key, credential) in byHost { normalized[Self.host(ofKey: key)] = credential }
        self.byHost = normalized
    }

    public init(configFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RegistryCredentialsError.unreadable(path)
        }
        try self.init(configJSON: data, source: path)
    }

    public init(configJSON data: Data, source: String = "config.json") throws {
        let file: ConfigFile
        do {
            file = try JSONDecoder().decode(ConfigFile.self, from: data)
        } catch {
            // The decoder's message could quote the file; name only where it failed.
            throw RegistryCredentialsError.invalid(source, reason: "not a docker config.json")
        }
        var credentials: [String: RegistryCredential] = [:]
        for (key, entry) in file.auths ?? [:] {
            if let token = entry.identitytoken, !token.isEmpty {
                credentials[key] = RegistryCredential(identityToken: token, username: entry.username)
            } else if let auth = entry.auth, !auth.isEmpty {
                guard let decoded = Data(base64Encoded: auth).map({ String(decoding: $0, as: UTF8.self) }),
                    let colon = decoded.firstIndex(of: ":")
                else {
                    throw RegistryCredentialsError.invalid(
                        source, reason: "the auth entry for \(key) is not base64 user:password")
                }
                credentials[key] = RegistryCredential(
                    username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...]))
            } else if let username = entry.username, let password = entry.password {
                credentials[key] = RegistryCredential(username: username, password: password)
            }
        }
        self.init(credentials)
    }

    /// The login for a registry host (`127.0.0.1:5000`, `docker.io`), if any.
    public func credential(for registry: String) -> RegistryCredential? {
        byHost[Self.host(ofKey: registry)]
    }

    public var registries: [String] { byHost.keys.sorted() }

    public var description: String { "RegistryCredentials(\(registries.joined(separator: ", ")))" }

    public var customMirror: Mirror { Mirror(self, children: ["registries": registries]) }

    /// `https://index.docker.io/v1/` → `docker.io`; `http://h:5000/v2/` → `h:5000`.
    static func host(ofKey key: String) -> String {
        var text = Substring(key.trimmingCharacters(in: .whitespaces))
        if let scheme = text.range(of: "://") { text = text[scheme.upperBound...] }
        if let slash = text.firstIndex(of: "/") { text = text[..<slash] }
        return OCIReference.normalizeRegistry(String(text))
    }

    private struct ConfigFile: Decodable {
        struct Entry: Decodable {
            let auth: String?
            let username: String?
            let password: String?
            let identitytoken: String?
        }
        let auths: [String: Entry]?
    }
}

public enum RegistryCredentialsError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(String)
    case invalid(String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path): "cannot read registry credentials from \(path)"
        case .invalid(let source, let reason): "invalid registry credentials in \(source): \(reason)"
        }
    }
}
