import Records
import RequestValidation
import ServiceKit
import StageClients

/// What the stages that succeeded so far produced, for the stages after them.
struct JobProgress {
    var checkout: CheckoutOutcome?
    var rewrite: RewriteOutcome?
    var build: BuildOutcome?
    var reusedFrom: String?
    var push: PushOutcome?
    /// The signed statement, once the stages are done and a signing key is configured.
    var provenance: ProvenanceRecord?

    mutating func absorb(_ stage: StageName, result: JSONNode) throws {
        do {
            switch stage {
            case .checkout: checkout = try result.decode(as: CheckoutOutcome.self)
            case .rewrite: rewrite = try result.decode(as: RewriteOutcome.self)
            case .build:
                build = try result.decode(as: BuildOutcome.self)
                if case .object(let fields) = result, case .string(let job)? = fields["reused_from"] { reusedFrom = job }
            case .push: push = try result.decode(as: PushOutcome.self)
            }
        } catch {
            throw RunFailure(
                code: "STAGE_RESULT_INVALID", message: "the \(stage.rawValue) stage answered a result the gateway cannot read",
                retryable: false)
        }
    }

    func required<T>(_ keyPath: KeyPath<JobProgress, T?>, _ stage: String) throws -> T {
        guard let value = self[keyPath: keyPath] else {
            throw RunFailure(code: "INTERNAL", message: "the \(stage) stage has no result", retryable: false)
        }
        return value
    }

    func jobResult() throws -> JSONNode {
        let checkout = try required(\.checkout, "checkout")
        let build = try required(\.build, "build")
        return try JSONNode.encoding(
            JobOutcome(
                commit: checkout.commit, image: build.image, manifestDigest: push?.manifestDigest,
                reference: push?.reference, reusedFrom: reusedFrom, provenance: provenance))
    }
}
