import Foundation
import HTTPTypes
import Hummingbird
import Prometheus

/// A dependency `/readyz` checks, e.g. that PostgreSQL answers.
public struct ReadinessCheck: Sendable {
    public let name: String
    public let check: @Sendable () async throws -> Void

    public init(_ name: String, check: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.check = check
    }
}

/// `/healthz` (the process serves), `/readyz` (its dependencies answer),
/// `/metrics` (Prometheus text format).
struct OperationalRoutes<Context: BuildchainRequestContext> {
    let service: String
    let checks: [ReadinessCheck]
    let registry: PrometheusCollectorRegistry
    let checkTimeout: Duration

    func register(on router: Router<Context>) {
        router.get("/healthz") { _, _ in
            StatusBody(status: "ok", service: service, checks: nil)
        }
        router.get("/readyz") { _, _ in
            let results = await runChecks()
            let failed = results.filter { $0.value != "ok" }
            guard failed.isEmpty else {
                throw ServiceError(
                    .serviceUnavailable, code: "NOT_READY",
                    detail: "not ready: \(failed.keys.sorted().joined(separator: ", "))", extensions: results)
            }
            return StatusBody(status: "ready", service: service, checks: results)
        }
        router.get("/metrics") { _, _ in
            var buffer = [UInt8]()
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }

    private func runChecks() async -> [String: String] {
        await withTaskGroup(of: (String, String).self) { group in
            for check in checks {
                group.addTask {
                    do {
                        try await withTimeout(checkTimeout) { try await check.check() }
                        return (check.name, "ok")
                    } catch {
                        return (check.name, "failed: \(Self.describe(error))")
                    }
                }
            }
            var results: [String: String] = [:]
            for await (name, result) in group { results[name] = result }
            return results
        }
    }

    /// Short, secret-free description of a failed check.
    private static func describe(_ error: any Error) -> String {
        if error is TimeoutError { return "timed out" }
        return String(describing: type(of: error))
    }
}

struct StatusBody: ResponseEncodable {
    let status: String
    let service: String
    let checks: [String: String]?
}

struct TimeoutError: Error {}

func withTimeout<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimeoutError()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
