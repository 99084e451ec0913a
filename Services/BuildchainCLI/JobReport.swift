import GatewayAPI

/// A job as text: `show`, and the summary `build --wait` ends with.
enum JobReport {
    static func render(_ job: Job) -> String {
        var fields: [[String]] = [
            ["job", job.id],
            ["state", "\(job.state.rawValue) (attempt \(job.attempt))"],
            ["workload", "\(job.workload)/\(job.service)"],
            ["source", "\(job.request.repository.url) @ \(job.request.repository.ref)"],
            ["created", Formatting.timestamp(job.createdAt)],
        ]
        if job.startedAt != nil { fields.append(["started", Formatting.timestamp(job.startedAt)]) }
        if job.finishedAt != nil { fields.append(["finished", Formatting.timestamp(job.finishedAt)]) }
        if let duration = job.durationMs {
            fields.append(["duration", Formatting.duration(milliseconds: Int64(duration))])
        }
        if let reusedFrom = job.reusedFrom { fields.append(["reused from", reusedFrom]) }
        if let result = job.result { fields += resultFields(result) }
        if let error = job.error {
            fields.append(["error", "\(error.code)\(error.stage.map { " (stage \($0.rawValue))" } ?? ""): \(error.message)"])
        }
        var text = Formatting.table(fields)
        if !job.stages.isEmpty {
            let stages = Formatting.table(job.stages.map(stageRow)).split(separator: "\n")
            text += "\nstages:\n" + stages.map { "  " + $0 }.joined(separator: "\n")
        }
        return text
    }

    private static func resultFields(_ result: Job.ResultPayload) -> [[String]] {
        var fields = [
            ["commit", result.commit], ["image", result.image.key], ["sha256", result.image.sha256],
            ["size", "\(Formatting.size(bytes: result.image.size)) (\(result.image.size) bytes)"],
        ]
        if let digest = result.manifestDigest { fields.append(["manifest", digest]) }
        if let reference = result.reference { fields.append(["pushed to", reference]) }
        return fields
    }

    private static func stageRow(_ stage: JobStage) -> [String] {
        [
            stage.name.rawValue, stage.status.rawValue, "attempt \(stage.attempt)",
            Formatting.duration(stage.durationMs.map(Int64.init)), stage.runId.map { "run \($0)" } ?? "",
            stage.error.map { "\($0.code): \($0.message)" } ?? "",
        ]
    }
}
