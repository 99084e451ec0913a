import ServiceKit

/// Where one stage service is and the token the gateway presents to it.
public struct ServiceEndpoint: Sendable {
    public var baseURL: String
    public var token: Secret

    public init(baseURL: String, token: Secret) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
    }
}

/// The four services a job's stages call.
public struct StageEndpoints: Sendable {
    public var checkout: ServiceEndpoint
    public var rewrite: ServiceEndpoint
    public var build: ServiceEndpoint
    public var artifact: ServiceEndpoint

    public init(checkout: ServiceEndpoint, rewrite: ServiceEndpoint, build: ServiceEndpoint, artifact: ServiceEndpoint) {
        self.checkout = checkout
        self.rewrite = rewrite
        self.build = build
        self.artifact = artifact
    }
}
