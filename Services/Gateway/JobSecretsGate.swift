import Foundation
import HTTPTypes
import Records
import ServiceKit

/// Decides what happens to the secrets of a submitted or retried job: sealed for the job, or
/// refused with a 422 saying why (no key configured, a builder that cannot take them, a
/// retry that does not give them again).
struct JobSecretsGate: Sendable {
    let settings: OrchestrationSettings

    /// The secrets of a new job's request, sealed for `jobID`; nil when it has none.
    func seal(_ request: BuildJobRequest, for jobID: UUID) throws -> SealedSecrets? {
        try seal(BuildSecrets(of: request), for: jobID)
    }

    /// The secrets a retry of `job` stores: those its body gives again (they were deleted when
    /// the job ended), which must be the ones the job declared.
    func sealForRetry(of job: Job, given: BuildSecrets) throws -> SealedSecrets? {
        let declared = BuildSecrets(of: try JSONDecoder().decode(BuildJobRequest.self, from: Data(job.request.utf8)))
        guard given.declaresTheSame(as: declared) else {
            let names = declared.buildArgs.keys.sorted().map { "secret_build_args.\($0)" } + declared.files.keys.sorted().map { "secrets.\($0)" }
            throw ServiceError(
                .unprocessableContent, code: "SECRETS_REQUIRED",
                detail: names.isEmpty
                    ? "this job declared no secrets; retry it without any"
                    : "a job's secrets are deleted when it ends: give them again with the retry (\(names.joined(separator: ", ")))")
        }
        return try seal(given, for: job.id)
    }

    private func seal(_ secrets: BuildSecrets, for jobID: UUID) throws -> SealedSecrets? {
        do {
            return try secrets.sealed(for: jobID, settings: settings)
        } catch let refusal as SecretsRefusal {
            let code = refusal == .notConfigured ? "SECRETS_NOT_CONFIGURED" : "SECRETS_UNSUPPORTED"
            throw ServiceError(.unprocessableContent, code: code, detail: refusal.description)
        }
    }
}
