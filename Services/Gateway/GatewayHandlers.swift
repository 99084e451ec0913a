import Foundation
import GatewayAPI
import Records
import ServiceKit
import StageClients

/// The gateway's operations of openapi/gateway.yaml, served through its generated server:
/// jobs (`+Jobs`), their submission (`+Submission`), the GitHub webhook (`+Webhook`), provenance
/// (`+Provenance`) and the dashboard's pages (`+Dashboard`).
struct GatewayHandlers: APIProtocol {
    let store: JobStore
    let secrets: JobSecretsGate
    let submission: JobSubmission
    let webhook: GitHubWebhookSettings?
    let deliveries: WebhookDeliveries
    let artifacts: ArtifactServiceClient
    /// The API tokens the dashboard's login accepts.
    let accepted: AcceptedTokens
    var pollInterval: Duration = .milliseconds(250)
}

extension Components.Schemas.Job {
    /// A recorded job as the contract shows it: `JobBody` (the request redacted, the results
    /// parsed), read as the generated type. Its `null` members are left out (a job error's
    /// `stage` when no stage failed): the generated encoder writes no `null`.
    init(_ job: Job, stages: [JobStage]) throws {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        self = try decoder.decode(Self.self, from: Data(try JobBody(job, stages: stages).jsonText()))
    }
}
