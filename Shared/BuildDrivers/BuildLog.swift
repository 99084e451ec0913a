import Synchronization

/// What a driver learns from its builder's output, one line at a time.
public protocol BuildOutputParser: Sendable {
    mutating func consume(_ line: String)
    var totalSteps: Int { get }
    var cachedSteps: Int { get }
    /// Image names in the order the builder pulled them, each once.
    var pulledImages: [String] { get }
    /// The builder's own error line, when it printed one.
    var errorLine: String? { get }
    /// The failure kind `errorLine` stands for (`.other` when there is none or it matches no pattern).
    var failureKind: BuildFailure.Kind { get }
    /// Whether the line just consumed says nothing about the failure (usage text) and is not kept
    /// among the last lines (it is still passed on).
    func isNoise(_ line: String) -> Bool
}

extension BuildOutputParser {
    public func isNoise(_ line: String) -> Bool { false }
}

/// The output of one builder run: passed on line by line, parsed, and the last
/// `keptLines` kept for the failure report. Lines come from two reader threads.
final class BuildLog<Parser: BuildOutputParser>: Sendable {
    static var keptLines: Int { 40 }

    private struct State {
        var parser: Parser
        var recent: [String] = []
        var next = 0
    }

    private let state: Mutex<State>
    private let forward: @Sendable (String) -> Void

    init(_ parser: Parser, forward: @escaping @Sendable (String) -> Void) {
        state = Mutex(State(parser: parser))
        self.forward = forward
    }

    func record(_ line: String) {
        state.withLock { state in
            state.parser.consume(line)
            if state.parser.isNoise(line) { return }
            if state.recent.count < Self.keptLines {
                state.recent.append(line)
            } else {
                state.recent[state.next] = line
            }
            state.next = (state.next + 1) % Self.keptLines
        }
        forward(line)
    }

    var parser: Parser { state.withLock { $0.parser } }

    /// The failure of a builder that exited with `exitStatus` (both Kaniko and buildah exit with a
    /// failing `RUN`'s own status): its error line, classified, else `otherwise`.
    func failure(exitStatus: Int32?, otherwise: String, builder: String) -> BuildFailure {
        let parser = self.parser
        return BuildFailure(
            kind: parser.failureKind, exitStatus: exitStatus, message: parser.errorLine ?? otherwise, lastLines: lastLines,
            builder: builder)
    }

    /// The last lines, oldest first.
    var lastLines: [String] {
        state.withLock { state in
            state.recent.count < Self.keptLines
                ? state.recent : Array(state.recent[state.next...] + state.recent[..<state.next])
        }
    }
}
