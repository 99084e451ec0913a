import HTTPClient
import Records
import ServiceKit
import StageClients

/// The clients of the services a job's stages call.
public struct StageServices: Sendable {
    let checkout: StageServiceClient
    let rewrite: StageServiceClient
    let build: StageServiceClient
    let artifact: StageServiceClient
    /// artifact-service's store API, for the files the gateway itself writes and reads (provenance).
    let store: ArtifactServiceClient

    public init(endpoints: StageEndpoints, http: HTTPClient) {
        checkout = StageServiceClient(name: "checkout-service", endpoint: endpoints.checkout, http: http)
        rewrite = StageServiceClient(name: "rewrite-service", endpoint: endpoints.rewrite, http: http)
        build = StageServiceClient(name: "build-service", endpoint: endpoints.build, http: http)
        artifact = StageServiceClient(name: "artifact-service", endpoint: endpoints.artifact, http: http)
        store = ArtifactServiceClient(baseURL: endpoints.artifact.baseURL, token: endpoints.artifact.token, http: http)
    }

    func client(for stage: StageName) -> StageServiceClient {
        switch stage {
        case .checkout: checkout
        case .rewrite: rewrite
        case .build: build
        case .push: artifact
        }
    }

    /// Where the stage's runs live on its service.
    static func path(of stage: StageName) -> String {
        switch stage {
        case .checkout: "/v1/checkouts"
        case .rewrite: "/v1/rewrites"
        case .build: "/v1/builds"
        case .push: "/v1/pushes"
        }
    }
}
