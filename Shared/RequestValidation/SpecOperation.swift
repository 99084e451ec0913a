/// One operation of a spec, compiled: its parameters' and JSON body's schemas and the code
/// its refusals carry.
public struct SpecOperation: Sendable {
    public let id: String
    public let method: String
    /// The spec's path template, e.g. `/v1/jobs/{id}`.
    public let path: String
    public let parameters: [Parameter]
    /// The `application/json` request body's schema, when the operation takes one.
    public let body: Schema?
    public let bodyRequired: Bool
    /// `requestBody.content["application/json"].example`, when the spec gives one.
    public let bodyExample: JSONNode?
    /// `requestBody.x-foreign-format: true`: the body is another party's document (a GitHub
    /// webhook payload), checked against its schema only: its nulls and escapes are its own.
    public let bodyIsForeign: Bool
    /// The operation's `x-problem-code`: what a limit of its body is refused with.
    public let problem: ProblemCode?

    public struct Parameter: Sendable {
        public enum Location: String, Sendable { case path, query, header }
        public let name: String
        public let location: Location
        public let required: Bool
        public let schema: Schema
        /// The parameter's `x-problem-code`, else its operation's.
        public let problem: ProblemCode?
    }

    let template: [Segment]
    enum Segment: Equatable {
        case literal(String)
        case parameter(String)
    }

    /// The codes a body check refuses with.
    var bodyCodes: ProblemCodes {
        ProblemCodes(shape: .invalidJSON, limit: problem ?? .invalidJSON)
    }

    func codes(of parameter: Parameter) -> ProblemCodes {
        let code = parameter.problem ?? ProblemCode(code: "BAD_REQUEST")
        return ProblemCodes(shape: code, limit: code)
    }
}

extension SpecOperation {
    /// The path parameters' values when `segments` (percent-encoded) fit the template. The last
    /// parameter of a template takes the rest of a longer path (`/v1/artifacts/{key}` takes
    /// `a/b/c`) only where `greedy`.
    func match(_ segments: [Substring], greedy: Bool) -> [String: String]? {
        guard segments.count == template.count || (greedy && segments.count > template.count && isGreedy) else { return nil }
        var values: [String: String] = [:]
        for (index, segment) in template.enumerated() {
            switch segment {
            case .literal(let text): guard segments[index] == text else { return nil }
            case .parameter(let name):
                values[name] = index == template.count - 1 ? segments[index...].joined(separator: "/") : String(segments[index])
            }
        }
        return values
    }

    private var isGreedy: Bool {
        if case .parameter = template.last { true } else { false }
    }

    var literalCount: Int { template.filter { if case .literal = $0 { true } else { false } }.count }

    static func segments(of template: String) -> [Segment] {
        template.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
            $0.hasPrefix("{") && $0.hasSuffix("}") ? .parameter(String($0.dropFirst().dropLast())) : .literal(String($0))
        }
    }
}
