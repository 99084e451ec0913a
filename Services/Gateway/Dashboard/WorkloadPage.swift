import Foundation
import Records

/// `/ui/workloads/{workload}`: how long its last 50 builds took, oldest to newest.
struct WorkloadPage {
    let workload: String
    let jobs: [Job]

    var html: String {
        let ordered = jobs.reversed().filter { $0.startedAt != nil && $0.finishedAt != nil }
        let durations = ordered.map { Int64(($0.finishedAt!.timeIntervalSince($0.startedAt!) * 1000).rounded()) }
        let longest = Double(max(durations.max() ?? 1, 1))
        let height = 200.0
        let barWidth = 14.0
        var bars = ""
        for (index, (job, duration)) in zip(ordered, durations).enumerated() {
            let barHeight = max(1, Double(duration) / longest * (height - 20))
            bars += """
                <a href="/ui/jobs/\(job.id.uuidString.lowercased())"><rect class="duration-bar" data-duration-ms="\(duration)" \
                x="\(Double(index) * (barWidth + 2))" y="\(height - barHeight)" width="\(barWidth)" height="\(barHeight)" \
                fill="\(stateColours[job.state.rawValue] ?? "#999")"><title>\(job.service) \(job.state.rawValue) \
                \(humanDuration(milliseconds: duration))</title></rect></a>
                """
        }
        let width = Int(max(Double(ordered.count) * (barWidth + 2), 100))
        let body = """
            <h1>\(escape(workload))</h1>
            <p>Duration of the last \(ordered.count) finished builds (of \(jobs.count)), oldest first; longest \
            \(humanDuration(milliseconds: durations.max())).</p>
            <svg id="durations" width="\(width)" height="\(Int(height))" role="img" aria-label="build durations">\(bars)</svg>
            <p><a href="/ui/?workload=\(escape(workload.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))">its jobs</a></p>
            """
        return page(title: workload, body: body)
    }
}
