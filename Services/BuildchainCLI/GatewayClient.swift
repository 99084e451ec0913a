import ContractCoding
import Foundation
import GatewayAPI
import HTTPClient
import Logging
import OpenAPIRuntime
import OpenAPITransport
import OperationalAPI
import Provenance
import RequestValidation

/// A decoded answer of the gateway with the bytes it came from, for `--output json`.
struct GatewayAnswer<Value: Sendable>: Sendable {
    var value: Value
    var body: [UInt8]
}

/// The gateway's `/v1` API through its generated client. Every failure is thrown as a `CLIError`.
struct GatewayClient: Sendable {
    let baseURL: String
    private let token: String?
    private let http: HTTPClient

    init(baseURL: String, token: String?) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
        // stdout carries what scripts parse and stderr the progress: the client's retry
        // notices would only clutter them.
        var logger = Logger(label: "buildchain.http") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        self.http = HTTPClient(logger: logger)
    }

    func submit(_ request: BuildRequest) async throws -> GatewayAnswer<Job> {
        try await answer { try await $0.submitBuild(body: .json(request)).accepted.body.json }
    }

    func jobs(_ query: GatewayAPI.Operations.ListJobs.Input.Query) async throws -> GatewayAnswer<JobPage> {
        try await answer { try await $0.listJobs(query: query).ok.body.json }
    }

    func job(_ id: JobID) async throws -> GatewayAnswer<Job> {
        try await answer { try await $0.getJob(path: .init(id: id.description)).ok.body.json }
    }

    /// The job's DSSE envelope (`GET /v1/jobs/{id}/provenance`).
    func provenance(_ id: JobID) async throws -> DSSEEnvelope {
        let envelope = try await answer { try await $0.getJobProvenance(path: .init(id: id.description)).ok.body.json }
        do {
            return try JSONDecoder().decode(DSSEEnvelope.self, from: JSONEncoder().encode(envelope.value))
        } catch {
            throw CLIError.unreadableAnswer("/v1/jobs/\(id)/provenance", reason: "\(error)")
        }
    }

    func cancel(_ id: JobID) async throws -> GatewayAnswer<Job> {
        try await answer { try await $0.cancelJob(path: .init(id: id.description)).accepted.body.json }
    }

    /// Retries the job, giving its secrets again when it had some (no body otherwise).
    func retry(_ id: JobID, secretBuildArgs: [String: String]? = nil, secrets: [String: String]? = nil) async throws
        -> GatewayAnswer<Job>
    {
        let body: GatewayAPI.Operations.RetryJob.Input.Body? =
            secretBuildArgs == nil && secrets == nil
            ? nil
            : .json(
                .init(
                    secretBuildArgs: .init(additionalProperties: secretBuildArgs ?? [:]),
                    secrets: .init(additionalProperties: secrets ?? [:])))
        return try await answer { try await $0.retryJob(path: .init(id: id.description), body: body).accepted.body.json }
    }

    /// `GET /readyz`, whatever its status: not ready is an answer, not a failure.
    func readiness() async throws -> (status: Int, body: [UInt8]) {
        let exchange = GatewayExchange(throwsErrorAnswers: false)
        _ = try await call(exchange, timeout: .seconds(10), client: OperationalAPI.Client.init) { try await $0.getReadiness() }
        return (exchange.status, exchange.body)
    }

    /// Opens `GET /v1/jobs/{id}/events?after=` as server-sent events; the body streams until the
    /// job ends. Also answers the response's `Date` header.
    func openEvents(_ id: JobID, after: Int) async throws -> (body: HTTPBody, date: String?) {
        let exchange = GatewayExchange()
        let body = try await call(exchange, timeout: nil) {
            try await $0.getJobEvents(
                path: .init(id: id.description), query: .init(after: after),
                headers: .init(accept: [.init(contentType: .textEventStream)])
            ).ok.body.textEventStream
        }
        return (body, exchange.date)
    }

    /// The gateway's limits, checked before a request is sent (the spec the gateway checks too).
    private static let limits = Result { try SpecLimits(spec: GatewayAPI.OpenAPIDocument.json) }

    private func answer<Value: Sendable>(_ operation: (GatewayAPI.Client) async throws -> Value) async throws
        -> GatewayAnswer<Value>
    {
        let exchange = GatewayExchange()
        let value = try await call(exchange, timeout: .seconds(60), operation)
        return GatewayAnswer(value: value, body: exchange.body)
    }

    private func call<Value>(
        _ exchange: GatewayExchange, timeout: Duration?, _ operation: (GatewayAPI.Client) async throws -> Value
    ) async throws -> Value {
        try await call(exchange, timeout: timeout, client: GatewayAPI.Client.init, operation)
    }

    /// Runs one operation of a generated client (the gateway's `/v1` API, or the operational
    /// endpoints every service shares), turning its failures into `CLIError`s.
    private func call<GeneratedClient, Value>(
        _ exchange: GatewayExchange, timeout: Duration?,
        client makeClient: (URL, Configuration, any ClientTransport, [any ClientMiddleware]) -> GeneratedClient,
        _ operation: (GeneratedClient) async throws -> Value
    ) async throws -> Value {
        guard let serverURL = URL(string: baseURL), serverURL.scheme != nil else {
            throw CLIError.unreachable(baseURL, reason: "not a URL")
        }
        var middlewares: [any ClientMiddleware] = [try Self.limits.get(), exchange]
        if let token { middlewares.insert(BearerToken(token), at: 0) }
        let client = makeClient(
            serverURL, .buildchain, HTTPClientTransport(client: http, timeout: timeout),
            middlewares)
        do {
            return try await operation(client)
        } catch let error as ClientError {
            switch error.underlyingError {
            case let failure as CLIError: throw failure
            case let violation as Violation:
                throw CLIError(
                    exitStatus: ExitStatus.usage,
                    message: "\(violation.problem.code): \(violation.description) (the gateway's spec; nothing was sent)")
            case let failure as HTTPClientError: throw CLIError.unreachable(baseURL, reason: "\(failure)")
            default: throw CLIError.unreadableAnswer(exchange.path, reason: "\(error.underlyingError)")
            }
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError.unreadableAnswer(exchange.path, reason: "\(error)")
        }
    }
}
