import Foundation
import Records

/// The stages of a job as bars on one time axis, to scale, in SVG: where the time went.
struct StageTimeline {
    let stages: [JobStage]
    let now: Date

    static let width = 760.0
    static let labelWidth = 90.0
    static let rowHeight = 28.0

    var svg: String {
        let started = stages.compactMap(\.startedAt).min()
        let ended = stages.map { $0.finishedAt ?? ($0.startedAt == nil ? nil : now) }.compactMap { $0 }.max()
        let span = max((ended ?? now).timeIntervalSince(started ?? now), 0.001)
        var rows = ""
        for (index, stage) in stages.enumerated() {
            let y = Double(index) * Self.rowHeight
            let status = stage.status.rawValue
            rows += #"<text class="stage-label" x="0" y="\#(y + 18)">\#(stage.name.rawValue)</text>"#
            guard let start = stage.startedAt, let started else {
                rows += #"<text class="stage-label muted" x="\#(Self.labelWidth)" y="\#(y + 18)">\#(status)</text>"#
                continue
            }
            let end = stage.finishedAt ?? now
            let milliseconds = Int64((end.timeIntervalSince(start) * 1000).rounded())
            let scale = (Self.width - Self.labelWidth - 170) / span
            let x = Self.labelWidth + start.timeIntervalSince(started) * scale
            let barWidth = max(2, end.timeIntervalSince(start) * scale)
            rows += """
                <rect class="stage-bar" data-stage="\(stage.name.rawValue)" data-status="\(status)" data-duration-ms="\(milliseconds)" \
                x="\(format(x))" y="\(y + 4)" width="\(format(barWidth))" height="\(Self.rowHeight - 8)" rx="3" \
                fill="\(stateColours[status] ?? "#999")"><title>\(stage.name.rawValue) \(status) \(humanDuration(milliseconds: milliseconds))</title></rect>\
                <text class="stage-label" x="\(format(x + barWidth + 6))" y="\(y + 18)">\(humanDuration(milliseconds: milliseconds)) · \(status)</text>
                """
        }
        let height = Double(stages.count) * Self.rowHeight
        return #"<svg id="timeline" width="\#(Int(Self.width))" height="\#(Int(height))" role="img" aria-label="stage timeline">\#(rows)</svg>"#
    }

    private func format(_ value: Double) -> String { String(format: "%.1f", value) }
}
