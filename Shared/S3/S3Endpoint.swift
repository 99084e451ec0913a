import Foundation

/// The service's base URL, and where a bucket or key lives under it for
/// either addressing style.
package struct S3Endpoint: Sendable {
    package let scheme: String
    /// Host name, IPv6 literals in brackets.
    package let host: String
    package let port: Int?
    /// A path prefix of the endpoint itself (usually empty), without a trailing slash.
    package let basePath: String

    package struct Location: Sendable, Equatable {
        /// The `Host` header, with the port when it is not the scheme's default.
        package let host: String
        /// The path as sent: each key segment percent-encoded once.
        package let path: String
        package let baseURL: String

        package func url(query: String) -> String {
            query.isEmpty ? baseURL + path : baseURL + path + "?" + query
        }
    }

    package init(_ url: String) throws(S3ClientError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", var host = components.host, !host.isEmpty
        else {
            throw .invalidConfiguration("endpoint \(url) is not an http(s) URL with a host")
        }
        if components.query != nil || components.fragment != nil {
            throw .invalidConfiguration("endpoint \(url) must not have a query or fragment")
        }
        if host.contains(":") && !host.hasPrefix("[") { host = "[\(host)]" }
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = components.port
        var base = components.percentEncodedPath
        while base.hasSuffix("/") { base.removeLast() }
        self.basePath = base
    }

    package func location(bucket: String, key: String?, style: S3Configuration.AddressingStyle) -> Location {
        let encodedKey = key.map { "/" + URIEncoding.encode($0, keepingSlashes: true) } ?? "/"
        let defaultPort = scheme == "https" ? 443 : 80
        let portSuffix = port.map { $0 == defaultPort ? "" : ":\($0)" } ?? ""
        switch style {
        case .path:
            let bucketPath = basePath + "/" + URIEncoding.encode(bucket)
            let path = key == nil ? bucketPath : bucketPath + encodedKey
            return Location(host: host + portSuffix, path: path, baseURL: "\(scheme)://\(host)\(portSuffix)")
        case .virtualHost:
            let virtualHost = "\(bucket).\(host)"
            return Location(
                host: virtualHost + portSuffix, path: basePath + encodedKey,
                baseURL: "\(scheme)://\(virtualHost)\(portSuffix)")
        }
    }
}
