import Foundation
import Records

/// `/ui/`: the jobs, newest first, filtered, refreshed every few seconds.
struct JobListPage {
    let jobs: [Job]
    let workload: String?
    let service: String?
    let state: String?

    var html: String {
        let options = ([""] + JobState.allCases.map(\.rawValue)).map { value in
            #"<option value="\#(value)"\#(value == (state ?? "") ? " selected" : "")>\#(value.isEmpty ? "any state" : value)</option>"#
        }.joined()
        let rows = jobs.map { job in
            let id = job.id.uuidString.lowercased()
            let duration = job.startedAt.map { start in
                humanDuration(milliseconds: Int64(((job.finishedAt ?? Date()).timeIntervalSince(start) * 1000).rounded()))
            } ?? "–"
            return """
                <tr class="job-row" data-job="\(id)"><td><a href="/ui/jobs/\(id)"><code>\(id.prefix(8))</code></a></td>
                <td><span class="state" style="background:\(stateColours[job.state.rawValue] ?? "#999")">\(job.state.rawValue)</span></td>
                <td><a href="/ui/workloads/\(escape(job.workload))">\(escape(job.workload))</a> / \(escape(job.service))</td>
                <td>\(job.createdAt.formatted(.iso8601))</td><td>\(duration)</td></tr>
                """
        }.joined()
        let body = """
            <h1>Jobs</h1>
            <form method="get" action="/ui/">
            <input name="workload" placeholder="workload" value="\(escape(workload ?? ""))">
            <input name="service" placeholder="service" value="\(escape(service ?? ""))">
            <select name="state">\(options)</select> <button>filter</button></form>
            <table id="jobs"><tr><th>job</th><th>state</th><th>workload / service</th><th>created</th><th>duration</th></tr>\(rows)</table>
            \(jobs.isEmpty ? #"<p class="muted">No jobs.</p>"# : "")
            """
        return page(title: "jobs", body: body, refreshSeconds: 5)
    }
}
