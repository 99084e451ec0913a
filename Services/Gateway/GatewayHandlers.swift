import GatewayAPI
import Records
import ServiceKit
import StageClients

/// The gateway's operations of openapi/gateway.yaml, served through its generated server:
/// jobs (`+Jobs`), their submission (`+Submission`), the GitHub webhook (`+Webhook`), provenance
/// (`+Provenance`) and the dashboard's pages (`+Dashboard`). `SubmitFastPath` answers the plain
/// form of a submit ahead of the generated server, with `submitted`.
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
