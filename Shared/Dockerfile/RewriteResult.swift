/// What `DockerfileRewriter.rewrite` produced.
public struct RewriteResult: Sendable, Equatable {
    /// The Dockerfile as given.
    public let original: String
    /// The rewritten Dockerfile: byte for byte the original except the replaced references.
    public let text: String
    /// Each reference rewritten in the file, in file order.
    public let changes: [Change]
    public let warnings: [Warning]
    /// The build args to pass to the build: the caller's, with every value that names an image
    /// the build pulls replaced by its proxied name (see `buildArgChanges`).
    public let buildArgs: [String: String]
    /// The build args whose values were replaced.
    public let buildArgChanges: [BuildArgChange]
    /// The images this build pulls once rewritten, in file order: stage bases (`FROM`), and
    /// images named by `COPY --from`, `ADD --from` and `RUN --mount=…,from=…`, with `ARG`s
    /// expanded. `ONBUILD` triggers are not included: they run in a later build.
    public let pulledImages: [PulledImage]

    /// `changes` as a unified diff of the file, empty when nothing changed.
    public var unifiedDiff: String { UnifiedDiff.make(from: original, to: text) }
}

/// One rewritten reference.
public struct Change: Sendable, Equatable, Codable, CustomStringConvertible {
    /// 1-based line where the rewritten text starts.
    public let line: Int
    /// The instruction keyword as written, uppercased (`FROM`, `COPY`, `RUN`, `ARG`, `ONBUILD`).
    public let instruction: String
    /// The reference (or `ARG` default) as written.
    public let from: String
    /// What it became.
    public let to: String
    /// Where the rewrite was written.
    public let form: Form

    /// Where a change was written, the smallest edit that keeps every other use of a variable.
    public enum Form: String, Sendable, Equatable, Codable {
        /// The name written in the reference itself, replaced in place (`node` in `node:${V}`).
        case reference
        /// The proxy prefix inserted before a name built from variables (`$ORG/app`).
        case prefix
        /// The default of the `ARG` the reference reads, which nothing else reads.
        case argDefault = "arg_default"
        /// The reference replaced by its resolved, proxied name: its variables are read elsewhere
        /// too, or its registry comes from a variable.
        case resolved
    }

    public init(line: Int, instruction: String, from: String, to: String, form: Form = .reference) {
        self.line = line
        self.instruction = instruction
        self.from = from
        self.to = to
        self.form = form
    }

    public var description: String { "line \(line): \(instruction) \(from) -> \(to) (\(form.rawValue))" }
}

/// Something the caller should know: a reference that could not be resolved or rewritten…
public struct Warning: Sendable, Equatable, Codable, CustomStringConvertible {
    public let line: Int
    public let message: String

    public var description: String { "line \(line): \(message)" }
}

/// A build arg whose value names an image the build pulls.
public struct BuildArgChange: Sendable, Equatable, Codable, CustomStringConvertible {
    public let name: String
    public let from: String
    public let to: String

    public var description: String { "build arg \(name): \(from) -> \(to)" }
}

/// An image the build pulls.
public struct PulledImage: Sendable, Equatable, Codable, CustomStringConvertible {
    /// 1-based line where the instruction starts.
    public let line: Int
    /// `FROM`, `COPY`, `ADD` or `RUN`.
    public let instruction: String
    /// The reference as the build will resolve it. Variables this module could not resolve
    /// stay as written (`${TARGETARCH}`).
    public let reference: String

    public var description: String { "line \(line): \(instruction) \(reference)" }
}
