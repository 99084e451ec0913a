import Foundation
import HTTPClient
import Testing

/// One bad input sent on purpose, and the answer it must get.
struct BadInput: Sendable, CustomTestStringConvertible {
    enum Expected: Sendable, CustomStringConvertible {
        /// Refused with this status and problem `code`; nothing ran.
        case refused(Int, code: String)
        /// Accepted (202); the run (a stage service's) or job (the gateway's) then failed with this code.
        case failed(code: String)
        /// Answered with this status: the input was taken as plain data.
        case answered(Int)

        var description: String {
            switch self {
            case .refused(let status, let code): "\(status) \(code)"
            case .failed(let code): "202, then failed \(code)"
            case .answered(let status): "\(status)"
            }
        }
    }

    /// What is bad about it, for the table.
    let input: String
    let service: String
    var method = "POST"
    let path: String
    /// JSON text; `{repo}`, `{script}`, `{marker}`, `{scratch}`, `{gitpw}` and `{token}` stand for the fixture's.
    var json: String?
    /// Sent with the stack's token in `Authorization`.
    var authorized = true
    let expected: Expected

    var testDescription: String { "\(input) → \(service) \(method) \(path): \(expected)" }

    /// The service's route for the runs `path` starts.
    var runsPath: String { path.split(separator: "?")[0].description }
}

extension BadInputFixture {
    /// `text` with the fixture's values in place of the placeholders.
    func expand(_ text: String) -> String {
        [
            ("{repo}", repository), ("{script}", script), ("{marker}", marker), ("{scratch}", scratch.path),
            ("{gitpw}", secrets["git password in a URL"]!), ("{token}", stack.token),
        ].reduce(text) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
    }

    /// Sends the case and checks its answer (and, for runs and jobs, how they ended).
    /// Returns the answer and, when one ran, the ended run or job.
    @discardableResult
    func check(_ input: BadInput) async throws -> (Answer, [String: Any]?) {
        let path = expand(input.path)
        let answer: Answer
        if let json = input.json {
            answer = try await send(
                input.service, input.method, path, body: .string(expand(json)), headers: ["Content-Type": "application/json"],
                authorized: input.authorized)
        } else {
            answer = try await send(
                input.service, input.method, path, body: input.method == "PUT" ? .string("x") : .none,
                authorized: input.authorized)
        }
        for (name, secret) in secrets where answer.text.contains(secret) {
            Issue.record("the answer to \(input.input) carries the \(name)")
        }
        switch input.expected {
        case .refused(let status, let code):
            #expect(answer.status == status, "\(input.input): \(answer.text.prefix(300))")
            #expect(answer.code == code, "\(input.input): \(answer.text.prefix(300))")
            #expect(answer.headers["Content-Type"] == "application/problem+json")
            return (answer, nil)
        case .failed(let code):
            try #require(answer.status == 202, "\(input.input): \(answer.status) \(answer.text.prefix(300))")
            let ended = try await finished(input.service, input.runsPath, answer.json)
            let error = ended["error"] as? [String: Any]
            #expect(error?["code"] as? String == code, "\(input.input): \(ended["status"] ?? ended["state"] ?? "?") \(error ?? [:])")
            return (answer, ended)
        case .answered(let status):
            #expect(answer.status == status, "\(input.input): \(answer.text.prefix(300))")
            return (answer, nil)
        }
    }
}

/// JSON text of `object` (keys sorted), for the case tables.
func jsonText(_ object: [String: Any]) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
}

/// `text` as it is written inside a JSON string (quotes and backslashes escaped).
func jsonString(_ text: String) -> String {
    String(jsonText(["": text]).dropFirst(#"{"":""#.count).dropLast(#""}"#.count))
}
