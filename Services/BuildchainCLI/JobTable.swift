import GatewayAPI

/// `buildchain jobs` as a table.
enum JobTable {
    static func render(_ jobs: [Job]) -> String {
        let header = ["ID", "STATE", "WORKLOAD/SERVICE", "CREATED", "DURATION", "STAGE/ERROR"]
        return Formatting.table([header] + jobs.map(row))
    }

    private static func row(_ job: Job) -> [String] {
        [
            job.id, job.state.rawValue, "\(job.workload)/\(job.service)", Formatting.timestamp(job.createdAt),
            Formatting.duration(job.durationMs.map(Int64.init)), note(job),
        ]
    }

    /// The stage in progress while the job runs, its error code once it failed.
    private static func note(_ job: Job) -> String {
        if let error = job.error { return error.code }
        if let stage = job.runningStage { return stage.name.rawValue }
        if job.reusedFrom != nil { return "reused" }
        return "-"
    }
}
