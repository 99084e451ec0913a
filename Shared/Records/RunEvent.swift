import Foundation
import Postgres

/// A log line or status change of a stage run, numbered 1, 2, 3… per run.
public struct RunEvent: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// Output of the stage (`stream` names it: stdout, stderr…).
        case log
        /// A status change; `message` is the new `RunStatus`.
        case state
    }

    public var runID: UUID
    public var seq: Int64
    public var at: Date
    public var kind: Kind
    public var stream: String?
    public var message: String
    /// Extra JSON, already redacted.
    public var data: String?
}

extension RunEvent {
    static let columns = "run_id, seq, at, kind, stream, message, data"

    init(row: PostgresRow) throws {
        guard let kind = Kind(rawValue: try row.decode("kind", as: String.self)) else {
            throw PostgresError(.decoding, message: "unknown event kind", column: "kind")
        }
        self.init(
            runID: try row.decode("run_id"), seq: try row.decode("seq"), at: try row.decode("at"), kind: kind,
            stream: try row.decode("stream"), message: try row.decode("message"), data: try row.decode("data"))
    }
}
