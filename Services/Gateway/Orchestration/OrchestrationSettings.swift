import Digests

/// How the gateway's workers run jobs.
public struct OrchestrationSettings: Sendable {
    /// Jobs one gateway runs at once.
    public var workers = 4
    /// How long a claim holds without renewal; a gateway that dies loses its jobs after this.
    public var lease: Duration = .seconds(30)
    /// How often an idle worker looks for queued jobs.
    public var pollInterval: Duration = .milliseconds(500)
    /// A job still running this long after it started fails with TIMEOUT.
    public var jobTimeout: Duration = .seconds(3600)
    /// Attempts of a stage after a transient failure, beyond the first.
    public var stageRetries = 3
    /// Wait before the first retry; doubled each time, at most `maxRetryBackoff`.
    public var retryBackoff: Duration = .seconds(2)
    public var maxRetryBackoff: Duration = .seconds(60)
    /// A stage run whose heartbeat is older than this is lost (its service died).
    public var runStaleAfter: Duration = .seconds(30)
    /// The build driver asked of build-service (`auto`, `buildah`, `kaniko`); part of the build key.
    public var builder = "auto"
    /// Seals jobs' secrets at rest and keys their MAC in the build key; nil: jobs with secrets are refused.
    public var secretsKeyring: SealingKeyring?
    /// Signs each succeeded job's provenance (DSSE, in-toto/SLSA); nil: no provenance is written.
    public var provenanceKey: SigningKey?
    /// `runDetails.builder.id` of the provenance: who vouches for the build.
    public var provenanceBuilderID = "https://buildchain.dev/gateway/v1"

    public init() {}
}
