/// Every limit a spec writes on its requests, for tools that exercise them (the boundary test
/// sends a value just outside and one just inside each).
public struct Limit: Sendable, CustomStringConvertible {
    public enum Step: Sendable, Hashable {
        case member(String)
        /// A member of a map (`additionalProperties: {schema}`), whatever its name.
        case anyMember
        /// An element of an array.
        case item
    }

    public enum Location: Sendable {
        /// In the JSON body, at this path (empty: the body itself).
        case body([Step])
        case parameter(SpecOperation.Parameter)
    }

    public let operation: SpecOperation
    public let location: Location
    /// The keyword: `maxLength`, `pattern`, `enum`, `required`, `type`, …
    public let keyword: String
    /// For `required`: the member that is required.
    public let member: String?
    /// The schema the keyword is written on.
    public let schema: Schema
    /// What the service must refuse a value outside the limit with.
    public let problem: ProblemCode

    public var description: String {
        let place: String
        switch location {
        case .body(let path):
            place = path.isEmpty ? "body" : path.map {
                switch $0 {
                case .member(let name): name
                case .anyMember: "*"
                case .item: "[]"
                }
            }.joined(separator: ".")
        case .parameter(let parameter): place = "\(parameter.location.rawValue) \(parameter.name)"
        }
        return "\(operation.id) \(place) \(keyword)\(member.map { " \($0)" } ?? "")"
    }

    /// Keywords whose refusal is the body's shape (`INVALID_JSON` in a body).
    static let shapeKeywords: Set<String> = ["type", "required", "additionalProperties"]
}

extension Schema {
    /// The keywords of this schema (not those it references) that limit a value.
    public var limitKeywords: [String] {
        var keywords: [String] = []
        if types != nil { keywords.append("type") }
        if forbidsAdditionalProperties { keywords.append("additionalProperties") }
        if propertyNames != nil { keywords.append("propertyNames") }
        if minLength.map({ $0 > 0 }) ?? false { keywords.append("minLength") }
        if maxLength != nil { keywords.append("maxLength") }
        if pattern != nil { keywords.append("pattern") }
        if enumeration != nil { keywords.append("enum") }
        if constant != nil { keywords.append("const") }
        if minimum != nil { keywords.append("minimum") }
        if maximum != nil { keywords.append("maximum") }
        if exclusiveMinimum != nil { keywords.append("exclusiveMinimum") }
        if exclusiveMaximum != nil { keywords.append("exclusiveMaximum") }
        if minItems.map({ $0 > 0 }) ?? false { keywords.append("minItems") }
        if maxItems != nil { keywords.append("maxItems") }
        if uniqueItems { keywords.append("uniqueItems") }
        if format == "uuid" { keywords.append("format") }
        if !anyOf.isEmpty { keywords.append("anyOf") }
        if !oneOf.isEmpty { keywords.append("oneOf") }
        return keywords
    }

    /// Whether `value` is valid here.
    public func accepts(_ value: JSONNode) -> Bool {
        violation(of: value, at: [], codes: ProblemCodes(shape: .invalidJSON, limit: .invalidJSON)) == nil
    }

    /// The keyword `value` breaks first, or nil when it is valid.
    public func brokenKeyword(by value: JSONNode) -> String? {
        violation(of: value, at: [], codes: ProblemCodes(shape: .invalidJSON, limit: .invalidJSON))?.keyword
    }

    /// This schema with its reference followed: the schema that holds `properties`, `type`….
    public var resolved: Schema { reference?.resolved ?? self }

    public var propertySchemas: [String: Schema] { resolved.properties }
    public var requiredMembers: [String] { required + (reference?.requiredMembers ?? []) }
    public var mapValueSchema: Schema? { additionalProperties ?? reference?.mapValueSchema }
    public var namesSchema: Schema? { propertyNames ?? reference?.namesSchema }
    public var itemSchema: Schema? { items ?? reference?.itemSchema }
    public var typeNames: Set<String> { types ?? reference?.typeNames ?? [] }
    public var enumValues: [JSONNode]? { enumeration ?? reference?.enumValues }
    public var bounds: (minimum: Double?, maximum: Double?, minLength: Int?, maxLength: Int?) {
        (minimum, maximum, minLength, maxLength)
    }
    public var constValue: JSONNode? { constant }
}

extension SpecOperation {
    /// The limits of this operation's parameters and JSON body, each once.
    public var limits: [Limit] {
        var found: [Limit] = []
        for parameter in parameters {
            let codes = codes(of: parameter)
            if parameter.required && parameter.location != .path {
                found.append(
                    Limit(
                        operation: self, location: .parameter(parameter), keyword: "required", member: parameter.name,
                        schema: parameter.schema, problem: codes.shape))
            }
            walk(parameter.schema, codes: codes, into: &found, depth: 0) { .parameter(parameter) }
        }
        // Any text is a string: a string parameter's `type` is no limit.
        found.removeAll {
            if case .parameter = $0.location { $0.keyword == "type" && $0.schema.typeNames.contains("string") } else { false }
        }
        if let body { walkBody(body, path: [], codes: bodyCodes, into: &found, depth: 0) }
        return found
    }

    private func walk(
        _ schema: Schema, codes: ProblemCodes, into found: inout [Limit], depth: Int, location: () -> Limit.Location
    ) {
        let codes = codes.within(schema)
        for keyword in schema.limitKeywords {
            found.append(
                Limit(
                    operation: self, location: location(), keyword: keyword, member: nil, schema: schema,
                    problem: Limit.shapeKeywords.contains(keyword) ? codes.shape : codes.limit))
        }
        if let reference = schema.reference, depth < 16 {
            walk(reference, codes: codes, into: &found, depth: depth + 1, location: location)
        }
    }

    private func walkBody(_ schema: Schema, path: [Limit.Step], codes: ProblemCodes, into found: inout [Limit], depth: Int) {
        guard depth < 16 else { return }
        let codes = codes.within(schema)
        walk(schema, codes: codes, into: &found, depth: 16) { .body(path) }  // this node's own keywords
        for member in schema.required {
            found.append(
                Limit(operation: self, location: .body(path), keyword: "required", member: member, schema: schema, problem: codes.shape))
        }
        if let reference = schema.reference { walkBody(reference, path: path, codes: codes, into: &found, depth: depth + 1) }
        for (name, property) in schema.properties.sorted(by: { $0.key < $1.key }) {
            walkBody(property, path: path + [.member(name)], codes: codes, into: &found, depth: depth + 1)
        }
        if let map = schema.additionalProperties {
            walkBody(map, path: path + [.anyMember], codes: codes, into: &found, depth: depth + 1)
        }
        if let items = schema.items { walkBody(items, path: path + [.item], codes: codes, into: &found, depth: depth + 1) }
    }
}
