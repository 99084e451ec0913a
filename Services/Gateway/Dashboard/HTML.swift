import Foundation

/// Text made safe for HTML element content and attribute values.
func escape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.count)
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(character)
        }
    }
    return out
}

/// The frame every dashboard page shares.
func page(title: String, body: String, refreshSeconds: Int? = nil) -> String {
    let refresh = refreshSeconds.map { #"<meta http-equiv="refresh" content="\#($0)">"# } ?? ""
    return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title)) · buildchain</title>\(refresh)
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>\(stylesheet)</style></head>
        <body><header><a href="/ui/">buildchain</a> <span class="muted">jobs</span>
        <form method="post" action="/ui/logout" class="inline"><button>log out</button></form></header>
        <main>\(body)</main></body></html>
        """
}

/// `3.9s`, `412ms`, `2m 05s`.
func humanDuration(milliseconds: Int64?) -> String {
    guard let ms = milliseconds else { return "–" }
    if ms < 1000 { return "\(ms)ms" }
    if ms < 60_000 { return String(format: "%.1fs", Double(ms) / 1000) }
    return "\(ms / 60_000)m \(String(format: "%02d", (ms / 1000) % 60))s"
}

/// `2.0 MiB (2143232 bytes)`.
func humanSize(_ bytes: Int64) -> String {
    let units = ["B", "KiB", "MiB", "GiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@ (%lld bytes)", value, units[unit], bytes)
}

let stateColours = [
    "succeeded": "#2e7d32", "failed": "#c62828", "running": "#1565c0", "cancelled": "#757575", "pending": "#bdbdbd",
    "queued": "#bdbdbd",
]

private let stylesheet = """
    body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#222}header{background:#263238;color:#fff;padding:8px 16px}
    header a{color:#fff;font-weight:bold;text-decoration:none;margin-right:12px}main{padding:16px;max-width:1100px}
    table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}
    .state{display:inline-block;padding:1px 8px;border-radius:8px;color:#fff;font-size:12px}
    .muted{color:#90a4ae}.error{background:#ffebee;border-left:4px solid #c62828;padding:8px 12px;margin:8px 0}
    pre#log{background:#111;color:#ddd;padding:8px;max-height:480px;overflow:auto;font-size:12px}
    form.inline{display:inline}header form.inline{float:right}code{font-size:12px}
    .stage-label{font-size:12px;fill:#222}dl{display:grid;grid-template-columns:160px auto;gap:2px 12px}dt{color:#607d8b}
    """
