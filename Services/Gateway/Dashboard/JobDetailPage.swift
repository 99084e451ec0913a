import Foundation
import Records
import RequestValidation
import ServiceKit

/// `/ui/jobs/{id}`: the job's stages to scale, what the rewrite changed, the build's steps,
/// the artifact, the live log, and the cancel and retry buttons.
struct JobDetailPage {
    let job: Job
    let stages: [JobStage]
    let csrf: String
    /// The webhook delivery that started the job, if one did.
    var delivery: String? = nil

    var html: String {
        let id = job.id.uuidString.lowercased()
        let result = job.result.flatMap { try? JSONNode(parsing: $0) }
        let state = job.state.rawValue
        var body = """
            <h1>Job <code>\(id)</code></h1>
            <p><span id="job-state" class="state" data-state="\(state)" style="background:\(stateColours[state] ?? "#999")">\(state)</span>
            <a href="/ui/workloads/\(escape(job.workload))">\(escape(job.workload))</a> / \(escape(job.service)) · attempt \(job.attempt)</p>
            """
        if let error = job.error.flatMap({ try? JSONNode(parsing: $0) }) {
            body += """
                <div class="error" id="job-error"><strong>\(escape(error["code"]?.string ?? "FAILED"))</strong> \
                in \(escape(error["stage"]?.string ?? "the job")): <span>\(escape(error["message"]?.string ?? ""))</span></div>
                """
        }
        body += buttons(id: id)
        body += "<h2>Stages</h2>" + StageTimeline(stages: stages, now: Date()).svg
        body += details(result: result)
        body += rewrites()
        body += #"<h2>Log</h2><pre id="log"></pre>"#
        body += script(id: id)
        return page(title: "job \(id.prefix(8))", body: body)
    }

    private func buttons(id: String) -> String {
        var forms = ""
        if !job.state.isTerminal {
            forms += form(action: "/ui/jobs/\(id)/cancel", label: "Cancel", id: "cancel")
        }
        if job.state == .failed || job.state == .cancelled {
            forms += form(action: "/ui/jobs/\(id)/retry", label: "Retry", id: "retry")
        }
        return forms.isEmpty ? "" : "<p>\(forms)</p>"
    }

    private func form(action: String, label: String, id: String) -> String {
        #"<form method="post" action="\#(action)" class="inline"><input type="hidden" name="csrf" value="\#(csrf)"><button id="\#(id)">\#(label)</button></form> "#
    }

    private func details(result: JSONNode?) -> String {
        var rows = ""
        if let delivery {
            rows += #"<dt>started by</dt><dd id="delivery">GitHub push, delivery <code>\#(escape(delivery))</code></dd>"#
        }
        let build = stageResult(.build)
        if let checkout = stageResult(.checkout), let commit = checkout["commit"]?.string {
            rows += "<dt>commit</dt><dd><code>\(escape(commit))</code></dd>"
        }
        if let cached = build?["cached_steps"]?.number, let total = build?["total_steps"]?.number {
            rows += #"<dt>steps</dt><dd id="steps">\#(Int(cached)) cached, \#(Int(total - cached)) built (of \#(Int(total)))</dd>"#
        }
        if let reused = build?["reused_from"]?.string {
            rows += #"<dt>reused from</dt><dd><a href="/ui/jobs/\#(escape(reused))">\#(escape(reused))</a></dd>"#
        }
        if let image = result?["image"], let key = image["key"]?.string {
            rows += """
                <dt>artifact</dt><dd id="artifact"><a href="/ui/jobs/\(job.id.uuidString.lowercased())/artifact">\(escape(key))</a></dd>
                <dt>size</dt><dd>\(humanSize(Int64(image["size"]?.number ?? 0)))</dd>
                <dt>sha256</dt><dd><code>\(escape(image["sha256"]?.string ?? ""))</code></dd>
                """
        }
        if let digest = result?["manifest_digest"]?.string {
            rows += "<dt>pushed</dt><dd><code>\(escape(result?["reference"]?.string ?? digest))</code></dd>"
        }
        if result?["provenance"]?["key"]?.string != nil {
            let link = "/v1/jobs/\(job.id.uuidString.lowercased())/provenance"
            rows += #"<dt>provenance</dt><dd id="provenance"><a href="\#(link)">signed SLSA statement</a></dd>"#
        }
        return rows.isEmpty ? "" : "<h2>Result</h2><dl>\(rows)</dl>"
    }

    private func rewrites() -> String {
        guard case .array(let changes)? = stageResult(.rewrite)?["changes"], !changes.isEmpty else { return "" }
        let rows = changes.map { change in
            """
            <tr class="rewrite"><td>\(Int(change["line"]?.number ?? 0))</td><td><code>\(escape(change["from"]?.string ?? ""))</code></td>
            <td>→</td><td><code>\(escape(change["to"]?.string ?? ""))</code></td></tr>
            """
        }.joined()
        return #"<h2>Rewritten images</h2><table id="rewrites"><tr><th>line</th><th>before</th><th></th><th>after</th></tr>\#(rows)</table>"#
    }

    private func stageResult(_ name: StageName) -> JSONNode? {
        stages.first { $0.name == name }?.result.flatMap { try? JSONNode(parsing: $0) }
    }

    /// Follows `/v1/jobs/{id}/events` (the session cookie authenticates it) into the log, and
    /// reloads the page when the job ends so its final state shows.
    private func script(id: String) -> String {
        let terminal = job.state.isTerminal ? "true" : "false"
        return """
            <script>
            (async () => {
              const log = document.getElementById('log');
              const response = await fetch('/v1/jobs/\(id)/events', {credentials: 'same-origin'});
              const reader = response.body.getReader();
              const decoder = new TextDecoder();
              let buffer = '';
              for (;;) {
                const {value, done} = await reader.read();
                if (done) break;
                buffer += decoder.decode(value, {stream: true});
                let newline;
                while ((newline = buffer.indexOf('\\n')) >= 0) {
                  const event = JSON.parse(buffer.slice(0, newline));
                  buffer = buffer.slice(newline + 1);
                  const line = document.createElement('div');
                  line.className = 'log-line log-' + event.kind;
                  line.textContent = (event.stage ? event.stage.padEnd(9) + '| ' : 'job      | ') + event.message;
                  log.appendChild(line);
                  log.scrollTop = log.scrollHeight;
                }
              }
              log.dataset.complete = 'true';
              if (!\(terminal)) location.reload();
            })();
            </script>
            """
    }
}
