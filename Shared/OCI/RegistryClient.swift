import Digests
import Foundation
import HTTPClient
import Logging

/// The OCI distribution API over `HTTPClient`: push a docker-archive, ask
/// whether a blob exists, resolve a tag to its manifest digest. Logins come
/// from the `RegistryCredentials` given at creation, never from a request.
public final class RegistryClient: Sendable {
    public struct Configuration: Sendable {
        /// Hosts (`host` or `host:port`) spoken to over plain HTTP. Loopback
        /// hosts (`localhost`, `127.0.0.1`, `::1`) always are.
        public var insecureRegistries: Set<String>
        /// Blobs sent at the same time during a push.
        public var maxConcurrentUploads: Int
        /// Blobs larger than this go up in `PATCH` chunks of this size (with a
        /// progress event per chunk); smaller ones in one `PUT`. Nil: always one `PUT`.
        public var chunkSize: Int64?
        public var manifestFormat: ManifestFormat

        public init(
            insecureRegistries: Set<String> = [], maxConcurrentUploads: Int = 3, chunkSize: Int64? = 64 << 20,
            manifestFormat: ManifestFormat = .docker
        ) {
            self.insecureRegistries = insecureRegistries
            self.maxConcurrentUploads = maxConcurrentUploads
            self.chunkSize = chunkSize
            self.manifestFormat = manifestFormat
        }
    }

    let http: HTTPClient
    let configuration: Configuration
    let logger: Logger
    private let auth: RegistryAuth

    public init(
        http: HTTPClient, credentials: RegistryCredentials = .none, configuration: Configuration = .init(),
        logger: Logger = Logger(label: "registry-client")
    ) {
        self.http = http
        self.configuration = configuration
        self.logger = logger
        self.auth = RegistryAuth(http: http, credentials: credentials)
    }

    /// The digest of the manifest a tag (or digest) names, from `HEAD …/manifests/<ref>`.
    public func resolveDigest(_ reference: OCIReference) async throws -> String {
        let target = Target(reference, client: self)
        let operation = "resolve \(reference)"
        let accept = MediaType.anyManifest.joined(separator: ", ")
        let head = try await target.send(
            "HEAD", "/manifests/\(reference.reference)", headers: ["Accept": accept], scopes: target.pullScope,
            operation: operation)
        guard head.status == 200 else { throw target.failure(head, operation: operation, notFound: "MANIFEST_UNKNOWN") }
        if let digest = head.headers["Docker-Content-Digest"], OCIReference.isValidDigest(digest) { return digest }
        // Registries may omit the header; the digest is then that of the manifest bytes.
        let get = try await target.send(
            "GET", "/manifests/\(reference.reference)", headers: ["Accept": accept], scopes: target.pullScope,
            operation: operation)
        guard get.status == 200 else { throw target.failure(get, operation: operation, notFound: "MANIFEST_UNKNOWN") }
        return "sha256:" + SHA256.hash(get.body).hex
    }

    /// Whether the repository of `reference` holds the blob, from `HEAD …/blobs/<digest>`.
    public func blobExists(_ digest: String, in reference: OCIReference) async throws -> Bool {
        let target = Target(reference, client: self)
        return try await target.blobExists(digest, scopes: target.pullScope)
    }

    func authorization(host: String, scopes: [String]) async throws -> String? {
        try await auth.authorization(host: host, scopes: scopes)
    }

    func authorization(afterChallenge header: String?, host: String, scopes: [String], rejected: String?) async throws
        -> String?
    {
        try await auth.authorization(afterChallenge: header, host: host, scopes: scopes, rejected: rejected)
    }

    /// `http` for loopback and configured insecure registries, else `https`.
    func scheme(for host: String) -> String {
        let name: Substring =
            if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
                host[host.index(after: host.startIndex)..<close]
            } else {
                host.split(separator: ":", maxSplits: 1).first ?? Substring(host)
            }
        let loopback = name == "localhost" || name == "::1" || name.hasPrefix("127.")
        let insecure =
            configuration.insecureRegistries.contains(host)
            || configuration.insecureRegistries.contains(String(name))
        return loopback || insecure ? "http" : "https"
    }
}

/// One repository on one registry: builds URLs and sends requests with authorization.
struct Target: Sendable {
    let reference: OCIReference
    let client: RegistryClient
    let host: String
    /// `scheme://host/v2/<repository>`.
    let base: String

    init(_ reference: OCIReference, client: RegistryClient) {
        self.reference = reference
        self.client = client
        self.host = reference.apiHost
        self.base = "\(client.scheme(for: host))://\(host)/v2/\(reference.repository)"
    }

    var pullScope: [String] { ["repository:\(reference.repository):pull"] }
    var pushScope: [String] { ["repository:\(reference.repository):pull,push"] }

    /// Sends a request to `base + path` (or to `url` when absolute), answering one auth challenge.
    func send(
        _ method: String, _ pathOrURL: String, headers: HTTPHeaders = [:], body: ClientRequestBody = .none,
        scopes: [String], operation: String
    ) async throws -> BufferedClientResponse {
        try Task.checkCancellation()
        let url = pathOrURL.hasPrefix("http://") || pathOrURL.hasPrefix("https://") ? pathOrURL : base + pathOrURL
        var request = ClientRequest(method: method, url: url, headers: headers, body: body)
        request.headers.set("User-Agent", "buildchain")
        let sent = try await client.authorization(host: host, scopes: scopes)
        if let sent { request.headers.set("Authorization", sent) }
        var response = try await exchange(request)
        if response.status == 401 {
            guard
                let retry = try await client.authorization(
                    afterChallenge: response.headers["WWW-Authenticate"], host: host, scopes: scopes, rejected: sent)
            else { throw failure(response, operation: operation) }
            request.headers.set("Authorization", retry)
            response = try await exchange(request)
            if response.status == 401 { throw failure(response, operation: operation) }
        }
        return response
    }

    private func exchange(_ request: ClientRequest) async throws -> BufferedClientResponse {
        do {
            return try await client.http.send(request, limit: 4 << 20)
        } catch HTTPClientError.cancelled {
            throw CancellationError()
        }
    }

    func blobExists(_ digest: String, scopes: [String]) async throws -> Bool {
        let operation = "HEAD blob \(digest)"
        let response = try await send("HEAD", "/blobs/\(digest)", scopes: scopes, operation: operation)
        switch response.status {
        case 200: return true
        case 404: return false
        default: throw failure(response, operation: operation)
        }
    }

    /// The error for an unexpected answer; bodiless answers (HEAD) get a code from the status.
    func failure(_ response: BufferedClientResponse, operation: String, notFound: String? = nil) -> RegistryError {
        if response.status == 404, response.body.isEmpty, let notFound {
            return RegistryError(code: notFound, status: 404, message: "\(reference) not found", operation: operation)
        }
        return RegistryError(status: response.status, body: response.body, operation: operation)
    }

    /// An upload `Location`, absolute or relative to the registry.
    func absolute(_ location: String) -> String {
        if location.hasPrefix("http://") || location.hasPrefix("https://") { return location }
        let origin = "\(client.scheme(for: host))://\(host)"
        return location.hasPrefix("/") ? origin + location : origin + "/" + location
    }
}
