import Digests

/// What makes two builds the same: the source commit, the context folder, the rewritten
/// Dockerfile, the build args, the target and the builder. Equal keys give equal images
/// (up to timestamps), so a later job may reuse an earlier job's image.
public struct BuildKey: Sendable, Equatable {
    public let value: String

    public init(
        commit: String, contextPath: String, dockerfile: String, buildArgs: [String: String], target: String?,
        builder: String
    ) {
        // Length-prefixed fields: no two different inputs can give the same byte string.
        var canonical = ""
        func field(_ name: String, _ text: String) {
            canonical += "\(name):\(text.utf8.count):\(text)\n"
        }
        field("version", "1")
        field("commit", commit)
        field("context", contextPath)
        field("dockerfile", dockerfile)
        for (name, value) in buildArgs.sorted(by: { $0.key < $1.key }) {
            field("arg", name)
            field("value", value)
        }
        field("target", target ?? "")
        field("builder", builder)
        value = "sha256:" + SHA256.hash(canonical).hex
    }
}
