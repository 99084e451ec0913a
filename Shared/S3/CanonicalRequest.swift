import HTTPClient

/// The pieces of a SigV4 canonical request, each built by the rules of
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
package enum CanonicalRequest {
    /// Headers never signed: they are set or rewritten by proxies and transports.
    static let unsignedHeaders: Set<String> = [
        "authorization", "user-agent", "expect", "connection", "transfer-encoding", "x-amzn-trace-id",
        "upgrade", "proxy-authorization", "keep-alive", "te", "trailer",
    ]

    /// `path` is the path as sent on the wire. S3 (`encodeTwice` false) signs
    /// each segment encoded once; other services encode the wire path again.
    package static func uri(path: String, normalize: Bool, encodeTwice: Bool) -> String {
        let path = path.isEmpty ? "/" : path
        let normalized = normalize ? normalizedPath(path) : path
        if encodeTwice {
            return URIEncoding.encode(normalized, keepingSlashes: true)
        }
        return normalized.split(separator: "/", omittingEmptySubsequences: false)
            .map { URIEncoding.encode(URIEncoding.decode(String($0))) }
            .joined(separator: "/")
    }

    /// Removes empty and `.` segments and resolves `..`, keeping a trailing slash.
    static func normalizedPath(_ path: String) -> String {
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(segment)
            }
        }
        guard !segments.isEmpty else { return "/" }
        let trailing = path.hasSuffix("/") ? "/" : ""
        return "/" + segments.joined(separator: "/") + trailing
    }

    /// `items` are decoded names and values; sorted by encoded name, then encoded value.
    package static func query(_ items: [(name: String, value: String)]) -> String {
        items.map { (URIEncoding.encode($0.name), URIEncoding.encode($0.value)) }
            .sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// Lowercase names in sorted order, each with its values trimmed, inner
    /// whitespace runs folded to one space, and repeated fields joined by commas.
    static func headers(_ headers: HTTPHeaders) -> (canonical: String, signed: String) {
        var values: [String: [String]] = [:]
        for field in headers {
            let name = field.name.lowercased()
            guard !unsignedHeaders.contains(name) else { continue }
            values[name, default: []].append(foldedValue(field.value))
        }
        let names = values.keys.sorted()
        let canonical = names.map { "\($0):\(values[$0]!.joined(separator: ","))\n" }.joined()
        return (canonical, names.joined(separator: ";"))
    }

    static func foldedValue(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0.isNewline })
            .joined(separator: " ")
    }

    static func assemble(
        method: String, uri: String, query: String, headers: (canonical: String, signed: String), payloadHash: String
    ) -> String {
        [method.uppercased(), uri, query, headers.canonical, headers.signed, payloadHash].joined(separator: "\n")
    }
}
