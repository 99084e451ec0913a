/// A job as text: `show`, and the summary `build --wait` ends with.
enum JobReport {
    static func render(_ job: Job) -> String {
        var fields: [[String]] = [
            ["job", job.id],
            ["state", "\(job.state) (attempt \(job.attempt))"],
            ["workload", "\(job.workload)/\(job.service)"],
        ]
        if let repository = job.request?.repository, let url = repository.url {
            fields.append(["source", url + (repository.ref.map { " @ \($0)" } ?? "")])
        }
        fields.append(["created", Formatting.timestamp(job.createdAt)])
        if job.startedAt != nil { fields.append(["started", Formatting.timestamp(job.startedAt)]) }
        if job.finishedAt != nil { fields.append(["finished", Formatting.timestamp(job.finishedAt)]) }
        if let duration = job.durationMilliseconds {
            fields.append(["duration", Formatting.duration(milliseconds: duration)])
        }
        if let reusedFrom = job.reusedFrom { fields.append(["reused from", reusedFrom]) }
        if let result = job.result { fields += resultFields(result) }
        if let error = job.error {
            fields.append(["error", "\(error.code)\(error.stage.map { " (stage \($0))" } ?? ""): \(error.message)"])
        }
        var text = Formatting.table(fields)
        if !job.stages.isEmpty {
            let stages = Formatting.table(job.stages.map(stageRow)).split(separator: "\n")
            text += "\nstages:\n" + stages.map { "  " + $0 }.joined(separator: "\n")
        }
        return text
    }

    private static func resultFields(_ result: JobResult) -> [[String]] {
        var fields: [[String]] = []
        if let commit = result.commit { fields.append(["commit", commit]) }
        if let image = result.image {
            fields.append(["image", image.key])
            if let sha256 = image.sha256 { fields.append(["sha256", sha256]) }
            if let size = image.size { fields.append(["size", "\(Formatting.size(bytes: size)) (\(size) bytes)"]) }
        }
        if let digest = result.manifestDigest { fields.append(["manifest", digest]) }
        if let reference = result.reference { fields.append(["pushed to", reference]) }
        return fields
    }

    private static func stageRow(_ stage: JobStage) -> [String] {
        [
            stage.name, stage.status, stage.attempt.map { "attempt \($0)" } ?? "",
            Formatting.duration(stage.durationMilliseconds), stage.runID.map { "run \($0)" } ?? "",
            stage.error.map { "\($0.code): \($0.message)" } ?? "",
        ]
    }
}
