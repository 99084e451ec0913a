import ServiceKit

/// The gateway's GitHub webhook: its secret and its triggers.
public struct GitHubWebhookSettings: Sendable {
    public var secret: Secret
    public var triggers: GitHubTriggers
}
