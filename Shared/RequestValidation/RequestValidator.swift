import Foundation

/// Checks requests against one service's bundled spec (`OpenAPIDocument.json` of its generated
/// module), so the limits the spec writes (lengths, patterns, enums, ranges, required and
/// unknown members) are the limits the service enforces. Compiled once, at start-up.
///
/// A refusal's code: the `x-problem-code` of the schema, parameter or operation nearest the
/// failing keyword (status `x-problem-status`, else 400); but a body that is not of the
/// operation's shape (a wrong type, a required member missing, a member an
/// `additionalProperties: false` object lacks) is `INVALID_JSON`, as the decoders said before.
public struct RequestValidator: Sendable {
    public let operations: [SpecOperation]

    public struct SpecError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(spec: String) throws {
        let document: JSONNode
        do {
            document = try JSONDecoder().decode(JSONNode.self, from: Data(spec.utf8))
        } catch {
            throw SpecError(description: "the spec is not JSON: \(error)")
        }
        var compiler = SchemaCompiler(document: document)
        var operations: [SpecOperation] = []
        do {
            for (path, item) in (document["paths"]?.object ?? [:]).sorted(by: { $0.key < $1.key }) {
                let shared = item["parameters"]?.array ?? []
                for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
                    guard let operation = item[method] else { continue }
                    operations.append(
                        try Self.compile(operation, method: method, path: path, shared: shared, compiler: &compiler))
                }
            }
        } catch let failure as SchemaCompiler.Failure {
            throw SpecError(description: failure.description)
        }
        self.operations = operations
    }

    private static func compile(
        _ json: JSONNode, method: String, path: String, shared: [JSONNode], compiler: inout SchemaCompiler
    ) throws -> SpecOperation {
        let problem = json.object.flatMap(ProblemCode.init(in:))
        var parameters: [SpecOperation.Parameter] = []
        for var parameter in shared + (json["parameters"]?.array ?? []) {
            if let reference = parameter["$ref"]?.string { parameter = try compiler.component(reference) }
            guard let name = parameter["name"]?.string, let location = parameter["in"]?.string.flatMap(SpecOperation.Parameter.Location.init)
            else { continue }
            parameters.removeAll { $0.name == name && $0.location == location }  // the operation's own wins
            parameters.append(
                SpecOperation.Parameter(
                    name: name, location: location, required: parameter["required"]?.bool ?? (location == .path),
                    schema: try compiler.compile(parameter["schema"] ?? .object([:])),
                    problem: parameter.object.flatMap(ProblemCode.init(in:)) ?? problem))
        }
        var requestBody = json["requestBody"]
        if let reference = requestBody?["$ref"]?.string { requestBody = try compiler.component(reference) }
        let content = requestBody?["content"]?["application/json"]
        return SpecOperation(
            id: json["operationId"]?.string ?? "\(method) \(path)", method: method.uppercased(), path: path,
            parameters: parameters, body: try content?["schema"].map { try compiler.compile($0) },
            bodyRequired: requestBody?["required"]?.bool ?? false, bodyExample: content?["example"],
            bodyIsForeign: requestBody?["x-foreign-format"]?.bool ?? false, problem: problem,
            template: SpecOperation.segments(of: path))
    }

    /// The operation serving `method path` (`path` percent-encoded, without its query), preferring
    /// a template that fits segment for segment, then the one with more literal segments.
    public func operation(method: String, path: String) -> (SpecOperation, pathParameters: [String: String])? {
        let segments = Array(path.split(separator: "/", omittingEmptySubsequences: false).dropFirst())
        for greedy in [false, true] {
            let found = operations.filter { $0.method == method }
                .compactMap { operation in operation.match(segments, greedy: greedy).map { (operation, $0) } }
                .max { $0.0.literalCount < $1.0.literalCount }
            if let found { return (found.0, pathParameters: found.1) }
        }
        return nil
    }

    /// The first parameter of `operation` its request breaks. `pathParameters` as matched
    /// (still percent-encoded), `query` decoded, `header` looks a header up by name.
    public func violation(
        of operation: SpecOperation, pathParameters: [String: String], query: [String: String], header: (String) -> String?
    ) -> Violation? {
        for parameter in operation.parameters {
            let raw: String?
            switch parameter.location {
            case .path:
                // Not percent-decodable: left for the route to refuse in its own words.
                guard let value = pathParameters[parameter.name]?.removingPercentEncoding else { continue }
                raw = value
            case .query: raw = query[parameter.name]
            case .header: raw = header(parameter.name)
            }
            let codes = operation.codes(of: parameter)
            guard let raw else {
                guard parameter.required else { continue }
                return Violation(
                    field: parameter.name, keyword: "required", limit: parameter.name, problem: codes.shape,
                    description: "\(parameter.name) is required")
            }
            if let found = parameter.schema.violation(of: Self.value(raw, as: parameter.schema), at: [parameter.name], codes: codes) {
                return found
            }
        }
        return nil
    }

    /// The first way a JSON body breaks `operation`'s body schema, then the first member no
    /// request may hold (see `JSONNode.forbiddenMember`); nil also when the bytes are not JSON at
    /// all, which the handler's decoder refuses in its own words. The body is parsed once, here.
    public func violation(of operation: SpecOperation, body: some Collection<UInt8>) -> Violation? {
        check(operation, body: body).violation
    }

    /// `violation(of:body:)`, and the body as it was parsed for the check (as `JSONDecoder`
    /// reads it; nil when the operation takes no JSON body, or the body is empty or not JSON).
    public func check(_ operation: SpecOperation, body: some Collection<UInt8>) -> (violation: Violation?, parsed: JSONNode?) {
        guard let schema = operation.body, !body.isEmpty, let value = Self.parsed(body) else { return (nil, nil) }
        if let found = schema.violation(of: value, at: [], codes: operation.bodyCodes) { return (found, value) }
        return (operation.bodyIsForeign ? nil : value.forbiddenMember(), value)
    }

    /// A body as the generated decoders (`JSONDecoder`) read it, so what is checked is what the
    /// handler gets: by hand, the first of a repeated key winning as in `JSONDecoder` (decoding
    /// a `JSONNode` with it was most of a submit's validation); what the hand parser refuses
    /// (bytes that are not UTF-8, a trailing comma `JSONDecoder` takes…) as `JSONDecoder` reads it.
    static func parsed(_ body: some Collection<UInt8>) -> JSONNode? {
        if let text = String(validating: body, as: UTF8.self), let value = try? JSONValueParser.parse(text, firstKeyWins: true) {
            return value
        }
        return try? JSONDecoder().decode(JSONNode.self, from: Data(body))
    }

    /// A parameter's text as the JSON value its schema's type reads it as (a number for
    /// `integer`/`number`, a boolean for `boolean`); text that is neither stays a string, which
    /// the type check then refuses.
    static func value(_ text: String, as schema: Schema) -> JSONNode {
        let types = schema.types ?? schema.reference?.types ?? []
        if !types.isDisjoint(with: ["integer", "number"]), let number = Double(text), number.isFinite,
            text.allSatisfy({ $0.isASCII && ($0.isNumber || "-+.eE".contains($0)) })
        {
            return .number(number)
        }
        if types.contains("boolean"), text == "true" || text == "false" { return .bool(text == "true") }
        return .string(text)
    }
}
