import Foundation
import Records
import RequestValidation
import ServiceKit

/// How a recorded job reads to callers: the request redacted, durations from the recorded times.
enum JobRecordReading {
    /// Undeclared secret-looking build args are recorded as given (the job runs from the
    /// record): the name heuristics still hide them from readers. Declared secrets are recorded
    /// with `***` values already, and keep their names visible.
    /// The record is parsed once and redacted as parsed (`Redaction`'s rules): going through
    /// `Redaction.redact(jsonText:)` parsed and wrote it twice more, a quarter of a status read's CPU.
    static func readable(_ recorded: JSONNode) -> JSONNode {
        let redacted = redact(recorded)
        guard case .object(let fields) = recorded, case .object(var readable) = redacted else { return redacted }
        for key in ["secret_build_args", "secrets"] { readable[key] = fields[key] }
        return .object(readable)
    }

    /// `Redaction.redact(json:)` on a parsed value: secret-named keys masked (null stays null),
    /// URL userinfo masked in every string.
    static func redact(_ value: JSONNode) -> JSONNode {
        switch value {
        case .object(let fields):
            var redacted: [String: JSONNode] = [:]
            for (key, child) in fields {
                redacted[key] = Redaction.isSecretKey(key) && child != .null ? .string(Redaction.mask) : redact(child)
            }
            return .object(redacted)
        case .array(let elements): return .array(elements.map(redact))
        case .string(let string): return .string(Redaction.redactURLUserinfo(string))
        case .null, .bool, .number: return value
        }
    }

    static func milliseconds(from start: Date?, to end: Date?) -> Int? {
        guard let start, let end else { return nil }
        return Int((end.timeIntervalSince(start) * 1000).rounded())
    }
}
