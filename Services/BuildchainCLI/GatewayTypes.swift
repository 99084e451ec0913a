import GatewayAPI

// The gateway's wire types are generated from openapi/gateway.yaml (module GatewayAPI); these
// names are what the CLI calls them.
typealias Job = Components.Schemas.Job
typealias JobState = Components.Schemas.JobState
typealias JobStage = Components.Schemas.Stage
typealias JobEvent = Components.Schemas.JobEvent
typealias JobPage = Operations.ListJobs.Output.Ok.Body.JsonPayload
typealias BuildRequest = Components.Schemas.BuildRequest

extension Components.Schemas.Job {
    var hasEnded: Bool { [.succeeded, .failed, .cancelled].contains(state) }
    var succeeded: Bool { state == .succeeded }

    /// The stage running now, if any.
    var runningStage: JobStage? { stages.first { $0.status == .running } }
}

extension Components.Schemas.JobEvent {
    var isStateChange: Bool { kind == .state }
}
