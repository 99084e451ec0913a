/// Heartbeat, staleness and end-write settings of the runs a service records
/// (`RunExecutor` in StageRuns); read with the other common settings.
public struct RunSettings: Sendable {
    /// How often the heartbeat and the sweep of stale runs happen.
    public var heartbeatInterval: Duration = .seconds(5)
    /// A run without heartbeat this long is abandoned.
    public var staleAfter: Duration = .seconds(30)
    /// How long writing a run's end is retried before the run is let go.
    public var endWriteLimit: Duration = .seconds(60)

    public init() {}
}
