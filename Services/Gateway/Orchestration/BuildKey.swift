import Digests

/// What makes two builds the same: the source commit, the context folder, the rewritten
/// Dockerfile, the build args, the target and the builder. Equal keys give equal images
/// (up to timestamps), so a later job may reuse an earlier job's image. A build with secrets
/// adds `secrets`, a keyed MAC of their names and values (`BuildSecrets.mac`), so it never
/// reuses an image built with other secret values, and the key reveals nothing of them.
public struct BuildKey: Sendable, Equatable {
    public let value: String

    public init(
        commit: String, contextPath: String, dockerfile: String, buildArgs: [String: String], target: String?,
        builder: String, secrets: String? = nil
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
        // Only when there are secrets: the keys of builds without any stay what they were.
        if let secrets { field("secrets", secrets) }
        value = "sha256:" + SHA256.hash(canonical).hex
    }
}
