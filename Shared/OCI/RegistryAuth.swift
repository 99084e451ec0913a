import Foundation
import HTTPClient

/// A `WWW-Authenticate` challenge: `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`.
struct AuthChallenge: Sendable, Equatable {
    /// Lowercased: `bearer`, `basic`.
    let scheme: String
    /// Parameter names lowercased, values unquoted.
    let parameters: [String: String]

    /// Every challenge in a header value (one header may carry several).
    static func parse(_ header: String) -> [AuthChallenge] {
        var challenges: [AuthChallenge] = []
        var scanner = Scanner(Array(header.utf8))
        while true {
            scanner.skip { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: ",") }
            guard let scheme = scanner.token(), !scheme.isEmpty else { break }
            var parameters: [String: String] = [:]
            while true {
                let mark = scanner.index
                scanner.skip { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: ",") }
                guard let name = scanner.token(), !name.isEmpty else { break }
                scanner.skip { $0 == UInt8(ascii: " ") }
                guard scanner.consume(UInt8(ascii: "=")) else {
                    // A token without "=" starts the next challenge.
                    scanner.index = mark
                    break
                }
                scanner.skip { $0 == UInt8(ascii: " ") }
                parameters[name.lowercased()] = scanner.quoted() ?? scanner.token() ?? ""
            }
            challenges.append(AuthChallenge(scheme: scheme.lowercased(), parameters: parameters))
        }
        return challenges
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        mutating func skip(while predicate: (UInt8) -> Bool) {
            while index < bytes.count && predicate(bytes[index]) { index += 1 }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func token() -> String? {
            let start = index
            skip { !" ,=\"".utf8.contains($0) }
            return index > start ? String(decoding: bytes[start..<index], as: UTF8.self) : nil
        }

        mutating func quoted() -> String? {
            guard consume(UInt8(ascii: "\"")) else { return nil }
            var value: [UInt8] = []
            while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count { index += 1 }
                value.append(bytes[index])
                index += 1
            }
            index += 1
            return String(decoding: value, as: UTF8.self)
        }
    }
}

/// Authorization for one registry client: remembers which hosts want
/// Basic and which a bearer token, and caches tokens per host and scope.
actor RegistryAuth {
    private struct Token {
        let value: String
        let expires: ContinuousClock.Instant
    }

    private let http: HTTPClient
    private let credentials: RegistryCredentials
    private var bearerChallenges: [String: AuthChallenge] = [:]
    private var basicHosts: Set<String> = []
    private var tokens: [String: Token] = [:]
    private var pending: [String: Task<Token, any Error>] = [:]

    init(http: HTTPClient, credentials: RegistryCredentials) {
        self.http = http
        self.credentials = credentials
    }

    /// What to send before any challenge, when the host is known to want one.
    func authorization(host: String, scopes: [String]) async throws -> String? {
        if basicHosts.contains(host) { return credentials.credential(for: host)?.basicAuthorization }
        let key = Self.key(host, scopes)
        if let token = tokens[key], token.expires > .now { return "Bearer \(token.value)" }
        guard let challenge = bearerChallenges[host] else { return nil }
        return "Bearer \(try await token(key: key, challenge: challenge, host: host, scopes: scopes).value)"
    }

    /// The authorization to retry with after a 401, or nil when there is nothing new to try
    /// (no credentials, or the ones just rejected).
    func authorization(afterChallenge header: String?, host: String, scopes: [String], rejected: String?) async throws
        -> String?
    {
        let challenges = AuthChallenge.parse(header ?? "")
        if let bearer = challenges.first(where: { $0.scheme == "bearer" }), bearer.parameters["realm"] != nil {
            bearerChallenges[host] = bearer
            let key = Self.key(host, scopes)
            if let cached = tokens[key], "Bearer \(cached.value)" == rejected { tokens[key] = nil }
            let fresh = "Bearer \(try await token(key: key, challenge: bearer, host: host, scopes: scopes).value)"
            return fresh == rejected ? nil : fresh
        }
        if challenges.contains(where: { $0.scheme == "basic" }) {
            basicHosts.insert(host)
            guard let basic = credentials.credential(for: host)?.basicAuthorization, basic != rejected else {
                return nil
            }
            return basic
        }
        return nil
    }

    private static func key(_ host: String, _ scopes: [String]) -> String {
        ([host] + scopes.sorted()).joined(separator: " ")
    }

    private func token(key: String, challenge: AuthChallenge, host: String, scopes: [String]) async throws -> Token {
        if let token = tokens[key], token.expires > .now { return token }
        if let running = pending[key] { return try await running.value }
        let credential = credentials.credential(for: host)
        let http = self.http
        let task = Task {
            try await Self.fetchToken(http: http, challenge: challenge, scopes: scopes, credential: credential)
        }
        pending[key] = task
        defer { pending[key] = nil }
        let token = try await task.value
        tokens[key] = token
        return token
    }

    /// Docker's token flow: `GET realm?service=…&scope=…` (Basic credentials if
    /// configured), or the OAuth2 refresh-token grant when the login is an identity token.
    private static func fetchToken(
        http: HTTPClient, challenge: AuthChallenge, scopes: [String], credential: RegistryCredential?
    ) async throws -> Token {
        let realm = challenge.parameters["realm"] ?? ""
        let service = challenge.parameters["service"]
        let operation = "token for \(scopes.joined(separator: " "))"
        var request: ClientRequest
        if let refresh = credential?.identityToken {
            var form = [("grant_type", "refresh_token"), ("client_id", "buildchain"), ("refresh_token", refresh)]
            if let service { form.append(("service", service)) }
            form.append(("scope", scopes.joined(separator: " ")))
            request = ClientRequest(
                method: "POST", url: realm, headers: ["Content-Type": "application/x-www-form-urlencoded"],
                body: .string(formEncode(form)))
        } else {
            var query: [(String, String)] = []
            if let service { query.append(("service", service)) }
            for scope in scopes { query.append(("scope", scope)) }
            let separator = realm.contains("?") ? "&" : "?"
            request = ClientRequest(url: query.isEmpty ? realm : realm + separator + formEncode(query))
            if let basic = credential?.basicAuthorization { request.headers.set("Authorization", basic) }
        }
        let response: BufferedClientResponse
        do {
            response = try await http.send(request, limit: 1 << 20)
        } catch HTTPClientError.cancelled {
            throw CancellationError()
        }
        guard response.status == 200 else {
            throw RegistryError(status: response.status, body: response.body, operation: operation)
        }
        guard let body = try? JSONDecoder().decode(TokenResponse.self, from: Data(response.body)),
            let value = body.token ?? body.accessToken, !value.isEmpty
        else {
            throw RegistryError(
                code: "UNAUTHORIZED", status: 200, message: "the token service sent no token", operation: operation)
        }
        // Refresh a little early so a token never expires mid-request.
        let lifetime = max(10, (body.expiresIn ?? 60) - 10)
        return Token(value: value, expires: .now + .seconds(lifetime))
    }

    private struct TokenResponse: Decodable {
        let token: String?
        let accessToken: String?
        let expiresIn: Int?

        enum CodingKeys: String, CodingKey {
            case token
            case accessToken = "access_token"
            case expiresIn = "expires_in"
        }
    }

    static func formEncode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&")
    }

    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func percentEncode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }
}
