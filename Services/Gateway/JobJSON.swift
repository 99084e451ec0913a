import ContractCoding
import Foundation
import GatewayAPI
import ServiceKit

/// A `Components.Schemas.Job` as the generated server writes it with `Configuration.buildchain`
/// (`JSONEncoder`: members in UTF-8 order of their keys, nil members left out, slashes not
/// escaped, dates by `ISO8601Dates`), written member by member: Foundation's encoder was a
/// sixth of a submit's CPU in the gateway. The request is `BuildRequestJSON`'s (or the JSON it
/// was recorded as, when the job shows it as recorded). A job with a result, or with a stage
/// that has a result or an error (none has when it is submitted), is nil: the caller encodes
/// those with `JSONEncoder`.
enum JobJSON {
    static func encode(_ job: Components.Schemas.Job, recorded: RecordedRequest? = nil) throws -> [UInt8]? {
        guard job.result == nil, job.stages.allSatisfy({ $0.result == nil && $0.error == nil }) else { return nil }
        var out = JSONTextWriter()
        out.open("{")
        out.key("attempt"); out.int(job.attempt)
        if let key = job.buildKey { out.key("build_key"); out.string(key) }
        if let flag = job.cancelRequested { out.key("cancel_requested"); out.bool(flag) }
        out.key("created_at"); try out.date(job.createdAt)
        if let milliseconds = job.durationMs { out.key("duration_ms"); out.int(milliseconds) }
        if let error = job.error {
            out.key("error"); out.open("{")
            out.key("code"); out.string(error.code)
            out.key("message"); out.string(error.message)
            out.key("retryable"); out.bool(error.retryable)
            if let stage = error.stage { out.key("stage"); out.string(stage.rawValue) }
            out.close("}")
        }
        if let date = job.finishedAt { out.key("finished_at"); try out.date(date) }
        out.key("id"); out.string(job.id)
        out.key("links"); out.open("{")
        if let link = job.links.cancel { out.key("cancel"); out.string(link) }
        if let link = job.links.events { out.key("events"); out.string(link) }
        if let link = job.links.retry { out.key("retry"); out.string(link) }
        if let link = job.links._self { out.key("self"); out.string(link) }
        out.close("}")
        out.key("request")
        if let recorded, recorded.value == job.request {
            out.raw(recorded.json.utf8)
        } else {
            BuildRequestJSON.write(job.request, to: &out)
        }
        if let id = job.reusedFrom { out.key("reused_from"); out.string(id) }
        out.key("service"); out.string(job.service)
        out.key("stages"); out.open("[")
        for stage in job.stages {
            out.open("{")
            out.key("attempt"); out.int(stage.attempt)
            if let milliseconds = stage.durationMs { out.key("duration_ms"); out.int(milliseconds) }
            if let date = stage.finishedAt { out.key("finished_at"); try out.date(date) }
            out.key("name"); out.string(stage.name.rawValue)
            if let id = stage.runId { out.key("run_id"); out.string(id) }
            if let date = stage.startedAt { out.key("started_at"); try out.date(date) }
            out.key("status"); out.string(stage.status.rawValue)
            out.close("}")
        }
        out.close("]")
        if let date = job.startedAt { out.key("started_at"); try out.date(date) }
        out.key("state"); out.string(job.state.rawValue)
        out.key("workload"); out.string(job.workload)
        out.close("}")
        return out.bytes
    }

    /// The generated server's encoder, for the jobs written as it writes them.
    static let encoder = JSONEncoder.buildchain()
}
