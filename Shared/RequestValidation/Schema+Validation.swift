import Foundation

/// Why a value is refused: the field, the keyword and its limit, and the code to refuse it with.
/// Never the value itself: fields such as `secrets` hold secrets.
public struct Violation: Sendable, Equatable, Error, CustomStringConvertible {
    /// Dotted, e.g. `repository.ref` or `secret_build_args.NPM_TOKEN`; `body` for the whole body.
    public var field: String
    /// The JSON Schema keyword, e.g. `maxLength`, `pattern`, `required`.
    public var keyword: String
    /// The keyword's limit as written, e.g. `63`, `^[a-z0-9][a-z0-9._-]*$`.
    public var limit: String
    public var problem: ProblemCode
    public var description: String

    /// The detail and extensions of the problem+json answer.
    public var extensions: [String: String] { ["field": field, "limit": keyword + (limit.isEmpty ? "" : " " + limit)] }
}

/// The codes a check refuses with: `shape` for a wrong type, a missing or unknown member
/// (`INVALID_JSON` in a body), `limit` for the rest (the operation's, parameter's or schema's code).
struct ProblemCodes {
    var shape: ProblemCode
    var limit: ProblemCode

    func within(_ schema: Schema) -> ProblemCodes {
        guard let own = schema.problem else { return self }
        return ProblemCodes(shape: shape == .invalidJSON ? shape : own, limit: own)
    }
}

extension Schema {
    /// The first way `value` breaks this schema, or nil when it is valid.
    func violation(of value: JSONNode, at path: [String], codes: ProblemCodes) -> Violation? {
        let codes = codes.within(self)
        func refuse(_ keyword: String, _ limit: String, _ message: String, shape: Bool = false) -> Violation {
            let field = path.isEmpty ? "body" : path.joined(separator: ".")
            return Violation(
                field: field, keyword: keyword, limit: limit, problem: shape ? codes.shape : codes.limit,
                description: "\(field) \(message)")
        }
        if let reference, let found = reference.violation(of: value, at: path, codes: codes) { return found }
        if let types, !value.isOfType(in: types) {
            return refuse("type", types.sorted().joined(separator: "|"), "must be \(Self.describe(types))", shape: true)
        }
        if let enumeration, !enumeration.contains(value) {
            let choices = enumeration.map(Self.text(of:)).joined(separator: ", ")
            return refuse("enum", choices, "must be one of \(choices)")
        }
        if let constant, constant != value { return refuse("const", Self.text(of: constant), "must be \(Self.text(of: constant))") }
        switch value {
        case .string(let text):
            if let found = stringViolation(text, refuse) { return found }
        case .number(let number):
            if let minimum, number < minimum { return refuse("minimum", Self.text(of: .number(minimum)), "must be at least \(Self.text(of: .number(minimum)))") }
            if let maximum, number > maximum { return refuse("maximum", Self.text(of: .number(maximum)), "must be at most \(Self.text(of: .number(maximum)))") }
            if let exclusiveMinimum, number <= exclusiveMinimum { return refuse("exclusiveMinimum", Self.text(of: .number(exclusiveMinimum)), "must be more than \(Self.text(of: .number(exclusiveMinimum)))") }
            if let exclusiveMaximum, number >= exclusiveMaximum { return refuse("exclusiveMaximum", Self.text(of: .number(exclusiveMaximum)), "must be less than \(Self.text(of: .number(exclusiveMaximum)))") }
        case .array(let elements):
            if let minItems, elements.count < minItems { return refuse("minItems", "\(minItems)", "must have at least \(minItems) items") }
            if let maxItems, elements.count > maxItems { return refuse("maxItems", "\(maxItems)", "must have at most \(maxItems) items") }
            if uniqueItems, Set(elements).count != elements.count { return refuse("uniqueItems", "", "must not repeat an item") }
            if let items {
                for (index, element) in elements.enumerated() {
                    if let found = items.violation(of: element, at: path + ["\(index)"], codes: codes) { return found }
                }
            }
        case .object(let members):
            if let found = objectViolation(members, at: path, codes: codes, refuse) { return found }
        case .null, .bool: break
        }
        for part in allOf {
            if let found = part.violation(of: value, at: path, codes: codes) { return found }
        }
        if !anyOf.isEmpty {
            let found = anyOf.map { $0.violation(of: value, at: path, codes: codes) }
            if !found.contains(where: { $0 == nil }) { return found.first! }
        }
        if !oneOf.isEmpty {
            let found = oneOf.map { $0.violation(of: value, at: path, codes: codes) }
            let valid = found.filter { $0 == nil }.count
            if valid == 0 { return found.first! }
            if valid > 1 { return refuse("oneOf", "", "matches more than one of its alternatives") }
        }
        return nil
    }

    private func stringViolation(_ text: String, _ refuse: (String, String, String, Bool) -> Violation) -> Violation? {
        // JSON Schema counts characters as Unicode code points.
        let length = text.unicodeScalars.count
        if let minLength, length < minLength {
            return refuse("minLength", "\(minLength)", "must be at least \(minLength) character\(minLength == 1 ? "" : "s")", false)
        }
        if let maxLength, length > maxLength { return refuse("maxLength", "\(maxLength)", "must be at most \(maxLength) characters", false) }
        if let pattern, !pattern.matches(text) { return refuse("pattern", pattern.source, "must match \(pattern.source)", false) }
        if format == "uuid", UUID(uuidString: text) == nil { return refuse("format", "uuid", "must be a UUID", false) }
        return nil
    }

    private func objectViolation(
        _ members: [String: JSONNode], at path: [String], codes: ProblemCodes,
        _ refuse: (String, String, String, Bool) -> Violation
    ) -> Violation? {
        for name in required where members[name] == nil {
            return refuse("required", name, "lacks the required member \"\(name)\"", true)
        }
        for name in members.keys.sorted() {
            let value = members[name]!
            if let propertyNames, let found = propertyNames.violation(of: .string(name), at: path + [Self.clipped(name)], codes: codes) {
                return found
            }
            if let property = properties[name] {
                if let found = property.violation(of: value, at: path + [name], codes: codes) { return found }
            } else if forbidsAdditionalProperties {
                return refuse("additionalProperties", "false", "has no member \"\(Self.clipped(name))\"", true)
            } else if let additionalProperties,
                let found = additionalProperties.violation(of: value, at: path + [name], codes: codes)
            {
                return found
            }
        }
        return nil
    }

    static func describe(_ types: Set<String>) -> String {
        types.sorted().map { ["array": "an array", "object": "an object", "integer": "an integer", "null": "null"][$0] ?? "a \($0)" }
            .joined(separator: " or ")
    }

    static func text(of value: JSONNode) -> String {
        switch value {
        case .string(let text): text
        case .number(let number): number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .bool(let flag): String(flag)
        case .null: "null"
        case .array, .object: "a structured value"
        }
    }

    /// A member name as shown in a refusal: names are not secret, but need not be long.
    static func clipped(_ name: String) -> String { name.unicodeScalars.count > 64 ? String(name.prefix(64)) + "…" : name }
}
