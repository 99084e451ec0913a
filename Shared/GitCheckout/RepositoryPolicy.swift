import PathBytes

/// The rules a checkout request must pass before anything runs. A refusal is
/// `CheckoutError.invalidRequest` naming the field, which the service answers with 400.
public struct RepositoryPolicy: Sendable, Hashable {
    /// `file://` repositories: for tests and the local stack only.
    public var allowFileURLs: Bool
    /// Plain `http://`: for loopback test servers only.
    public var allowPlainHTTP: Bool

    public init(allowFileURLs: Bool = false, allowPlainHTTP: Bool = false) {
        self.allowFileURLs = allowFileURLs
        self.allowPlainHTTP = allowPlainHTTP
    }

    public var allowedTransports: Set<RepositoryURL.Transport> {
        var transports: Set<RepositoryURL.Transport> = [.https, .ssh, .git]
        if allowFileURLs { transports.insert(.file) }
        if allowPlainHTTP { transports.insert(.http) }
        return transports
    }

    public func validate(_ request: CheckoutRequest) throws(CheckoutError) -> ValidatedRequest {
        let repository = try repositoryURL(request.repository)
        try validateRef(request.ref)
        if let depth = request.depth, depth < 1 {
            throw .invalidRequest(field: "depth", reason: "must be at least 1")
        }
        let context = try Self.relativePath(request.contextPath, field: "contextPath")
        let dockerfile = try Self.relativePath(request.dockerfilePath, field: "dockerfilePath")
        guard !dockerfile.isEmpty else { throw .invalidRequest(field: "dockerfilePath", reason: "must name a file") }
        return ValidatedRequest(
            repository: repository, ref: request.ref, depth: request.depth, submodules: request.submodules,
            contextPath: context.isEmpty ? "." : context, dockerfilePath: dockerfile)
    }

    public func repositoryURL(_ text: String) throws(CheckoutError) -> RepositoryURL {
        try RepositoryURL.parse(text, allowing: allowedTransports)
    }

    /// `git check-ref-format --allow-onelevel`, plus no leading `-` and no whitespace at all.
    public func validateRef(_ ref: String) throws(CheckoutError) {
        func refuse(_ reason: String) -> CheckoutError { .invalidRequest(field: "ref", reason: reason) }
        guard !ref.isEmpty else { throw refuse("must not be empty") }
        guard ref.utf8.count <= 1024 else { throw refuse("is too long") }
        guard !ref.bytesStart(with: "-") else { throw refuse("must not begin with '-'") }
        guard !ref.bytesEqual("@") else { throw refuse("must not be '@'") }
        guard !ref.unicodeScalars.contains(where: RepositoryURL.isControlOrSpace) else {
            throw refuse("must not contain control characters or whitespace")
        }
        if let bad = ref.unicodeScalars.first(where: { "~^:?*[\\".unicodeScalars.contains($0) }) {
            throw refuse("must not contain '\(bad)'")
        }
        for sequence in ["..", "@{", "//"] where ref.containsBytes(sequence) {
            throw refuse("must not contain '\(sequence)'")
        }
        guard !ref.bytesStart(with: "/"), !ref.bytesEnd(with: "/") else { throw refuse("must not begin or end with '/'") }
        guard !ref.bytesEnd(with: ".") else { throw refuse("must not end with '.'") }
        for component in ref.slashSegments(omittingEmpty: true) {
            guard !component.bytesStart(with: ".") else { throw refuse("no component may begin with '.'") }
            guard !component.bytesEnd(with: ".lock") else { throw refuse("no component may end with '.lock'") }
        }
    }

    /// A path inside the repository: not absolute, no `..`, no leading `-`, no control
    /// characters. Returns it without empty and `.` segments ("" for the root).
    static func relativePath(_ path: String, field: String) throws(CheckoutError) -> String {
        func refuse(_ reason: String) -> CheckoutError { .invalidRequest(field: field, reason: reason) }
        guard !path.isEmpty else { throw refuse("must not be empty") }
        guard path.utf8.count <= 4096 else { throw refuse("is too long") }
        guard !path.bytesStart(with: "/") else { throw refuse("must be relative") }
        guard !path.bytesStart(with: "-") else { throw refuse("must not begin with '-'") }
        guard !path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw refuse("must not contain control characters")
        }
        let segments = path.slashSegments(omittingEmpty: true)
        guard !segments.contains(where: { $0.bytesEqual("..") }) else { throw refuse("must not contain '..'") }
        return segments.filter { !$0.bytesEqual(".") }.joined(separator: "/")
    }
}
