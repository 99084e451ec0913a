import ArtifactAPI
import BuildAPI
import CheckoutAPI
import ContractCoding
import Foundation
import HTTPClient
import OpenAPIRuntime
import OpenAPITransport
import Records
import RewriteAPI
import ServiceKit
import StageClients

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
}

/// The generated clients of the services a job's stages call, each with its bearer token and
/// its failures mapped to `RunFailure`s: a refusal (4xx) carries the service's problem code and
/// is final; an unreachable service, a 5xx or 429 is `SERVICE_UNAVAILABLE` and retryable.
public struct StageServices: Sendable {
    let checkout: StageService<CheckoutAPI.Client>
    let rewrite: StageService<RewriteAPI.Client>
    let build: StageService<BuildAPI.Client>
    let artifact: StageService<ArtifactAPI.Client>
    /// artifact-service's store API, for the files the gateway itself writes and reads (provenance).
    let store: ArtifactServiceClient

    public init(endpoints: StageEndpoints, http: HTTPClient) {
        let transport = HTTPClientTransport(client: http, operations: Self.operations)
        checkout = StageService(name: "checkout-service", endpoints.checkout, transport, CheckoutAPI.Client.init)
        rewrite = StageService(name: "rewrite-service", endpoints.rewrite, transport, RewriteAPI.Client.init)
        build = StageService(name: "build-service", endpoints.build, transport, BuildAPI.Client.init)
        artifact = StageService(name: "artifact-service", endpoints.artifact, transport, ArtifactAPI.Client.init)
        store = ArtifactServiceClient(baseURL: endpoints.artifact.baseURL, token: endpoints.artifact.token, http: http)
    }

    /// Starting calls are never repeated (a second run would start); reads are, on connection
    /// failures and 429/502/503/504; an events stream has no time limit.
    static let operations: [String: OperationPolicy] = {
        var operations: [String: OperationPolicy] = [:]
        for start in ["startCheckout", "rewriteDockerfile", "startBuild", "startPush", "attachAttestation"] {
            operations[start] = OperationPolicy(timeout: .seconds(60), retry: .never)
        }
        for read in ["getCheckout", "getBuild", "getPush"] { operations[read] = OperationPolicy(timeout: .seconds(30)) }
        for cancel in ["cancelCheckout", "cancelBuild", "cancelPush"] {
            operations[cancel] = OperationPolicy(timeout: .seconds(15), retry: .never)
        }
        for events in ["getCheckoutEvents", "getBuildEvents", "getPushEvents"] { operations[events] = OperationPolicy(retry: .never) }
        operations["headArtifact"] = OperationPolicy(timeout: .seconds(15))
        return operations
    }()

    /// The calls that follow and cancel the stage's runs on its service.
    func runs(of stage: StageName) throws -> StageRunCalls {
        switch stage {
        case .checkout: .checkout(checkout)
        case .build: .build(build)
        case .push: .push(artifact)
        case .rewrite: throw RunFailure(code: "INTERNAL", message: "a rewrite is answered at once, it is no run", retryable: false)
        }
    }

    /// Whether artifact-service still stores `key` (a 5xx is a failure, any other status an absence).
    func artifactExists(_ key: String) async throws -> Bool {
        let output = try await artifact.call("headArtifact") { try await $0.headArtifact(path: .init(key: key)) }
        switch output {
        case .ok: return true
        case .serviceUnavailable: throw artifact.failures.refusal(503, nil, "headArtifact")
        case .undocumented(let status, _) where status >= 500: throw artifact.failures.refusal(status, nil, "headArtifact")
        default: return false
        }
    }
}

/// One stage service's generated client, and how its failures become `RunFailure`s.
struct StageService<API: Sendable>: Sendable {
    let name: String
    let api: API
    let failures: ServiceFailures

    init(
        name: String, _ endpoint: ServiceEndpoint, _ transport: HTTPClientTransport,
        _ make: (URL, Configuration, any ClientTransport, [any ClientMiddleware]) -> API
    ) {
        self.name = name
        failures = Self.failures(of: name)
        api = make(
            URL(string: endpoint.baseURL) ?? URL(fileURLWithPath: "/"), .buildchain, transport,
            [BearerToken(endpoint.token.value), failures.middleware])
    }

    /// Runs `operation` on the client; its failures come back as `RunFailure`s.
    func call<T>(_ operation: String, _ body: (API) async throws -> T) async throws -> T {
        try await failures.call(operation) { try await body(api) }
    }

    private static func failures(of name: String) -> ServiceFailures {
        @Sendable func unavailable(_ detail: String) -> RunFailure {
            RunFailure(code: "SERVICE_UNAVAILABLE", message: "\(name): \(detail)", retryable: true)
        }
        return ServiceFailures(
            refusal: { status, problem, operation in
                if status >= 500 || status == 429 {
                    return unavailable("\(operation) answered \(status)\(problem?.detail.map { ": \($0)" } ?? "")")
                }
                return RunFailure(
                    code: problem?.code ?? "STAGE_REFUSED",
                    message: "\(name) refused \(operation): \(problem?.detail ?? "status \(status)")", retryable: false)
            },
            unreachable: { detail, _ in unavailable(detail) })
    }
}
