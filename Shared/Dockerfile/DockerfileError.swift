/// A text that is not a Dockerfile: an unterminated heredoc, an exec-form JSON array that is not
/// closed, an unknown instruction…
public struct DockerfileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line where the problem starts.
    public let line: Int
    public let reason: String

    public var description: String { "line \(line): \(reason)" }
}
