import HTTPClient
import Logging
import ServiceKit

/// Where a stage service reaches artifact-service and the token it presents:
/// `ARTIFACT_SERVICE_URL` (default http://127.0.0.1:8084) and `ARTIFACT_SERVICE_TOKEN`
/// (default: the service's own `API_TOKEN`).
public struct ArtifactServiceEndpoint: Sendable {
    public var url: String
    public var token: Secret

    public init(url: String, token: Secret) {
        self.url = url
        self.token = token
    }

    public init(reading env: EnvironmentReader, common: CommonConfiguration) {
        self.init(
            url: env.string("ARTIFACT_SERVICE_URL", default: "http://127.0.0.1:8084"),
            token: env.secret("ARTIFACT_SERVICE_TOKEN") ?? common.apiToken)
    }

    /// A client of it; `url` for another address of the same service (as build pods reach it).
    public func client(logger: Logger, url: String? = nil) -> ArtifactServiceClient {
        ArtifactServiceClient(baseURL: url ?? self.url, token: token, http: HTTPClient(logger: logger))
    }
}
