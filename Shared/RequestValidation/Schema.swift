import Foundation

/// One schema of a spec, compiled once: the subset of JSON Schema (2020-12, as OpenAPI 3.1
/// uses it) that buildchain's specs use for requests. Keywords outside the subset are ignored;
/// `format` is checked for `uuid` only. A `$ref` is followed into the spec's `components`.
public final class Schema: @unchecked Sendable {
    // Set while compiling (references may point back at a schema still being filled), then never again.
    var reference: Schema?
    var types: Set<String>?
    var required: [String] = []
    var properties: [String: Schema] = [:]
    var additionalProperties: Schema?
    var forbidsAdditionalProperties = false
    var propertyNames: Schema?
    var minLength: Int?
    var maxLength: Int?
    var pattern: ECMAPattern?
    var enumeration: [JSONNode]?
    var constant: JSONNode?
    var minimum: Double?
    var maximum: Double?
    var exclusiveMinimum: Double?
    var exclusiveMaximum: Double?
    var minItems: Int?
    var maxItems: Int?
    var uniqueItems = false
    var items: Schema?
    var allOf: [Schema] = []
    var anyOf: [Schema] = []
    var oneOf: [Schema] = []
    public internal(set) var format: String?
    /// `x-problem-code` / `x-problem-status`: how a limit of this schema (or below it) is refused.
    var problem: ProblemCode?
    /// The spec's text of this schema, for tools (the boundary test) that read `examples`, `default`.
    public internal(set) var source: JSONNode = .object([:])

    init() {}
}

/// The stable code (and HTTP status) of a refusal, written in a spec as `x-problem-code` and
/// `x-problem-status` (400 when absent) on an operation, a parameter or a schema.
public struct ProblemCode: Sendable, Hashable {
    public var code: String
    public var status: Int

    public init(code: String, status: Int = 400) {
        self.code = code
        self.status = status
    }

    /// A body that is not JSON of the operation's shape: a wrong type, a required member
    /// missing, a member the schema does not allow. The handlers' decoders said the same.
    public static let invalidJSON = ProblemCode(code: "INVALID_JSON")

    init?(in object: [String: JSONNode]) {
        guard let code = object["x-problem-code"]?.string else { return nil }
        self.init(code: code, status: object["x-problem-status"]?.number.map { Int($0) } ?? 400)
    }
}

/// Compiles the schemas of one spec, each component once.
struct SchemaCompiler {
    let components: [String: JSONNode]
    private var compiled: [String: Schema] = [:]

    init(document: JSONNode) {
        components = document["components"]?.object ?? [:]
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    mutating func compile(_ json: JSONNode) throws -> Schema {
        let schema = Schema()
        try fill(schema, from: json)
        return schema
    }

    /// The component a local reference (`#/components/<kind>/<name>`) names, as JSON.
    func component(_ reference: String) throws -> JSONNode {
        let parts = reference.split(separator: "/").map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
        guard parts.count == 4, parts[0] == "#", parts[1] == "components", let found = components[parts[2]]?[parts[3]] else {
            throw Failure(description: "unsupported or dangling reference \(reference)")
        }
        return found
    }

    private mutating func schema(referencedBy reference: String) throws -> Schema {
        if let done = compiled[reference] { return done }
        let schema = Schema()
        compiled[reference] = schema
        try fill(schema, from: try component(reference))
        return schema
    }

    private mutating func fill(_ schema: Schema, from json: JSONNode) throws {
        guard let object = json.object else {
            if json == .bool(false) { schema.enumeration = [] }  // `false`: nothing is valid
            return
        }
        schema.source = json
        if let reference = object["$ref"]?.string { schema.reference = try self.schema(referencedBy: reference) }
        if let type = object["type"] {
            schema.types = Set(type.string.map { [$0] } ?? type.array?.compactMap(\.string) ?? [])
        }
        schema.required = object["required"]?.array?.compactMap(\.string) ?? []
        for (name, property) in object["properties"]?.object ?? [:] { schema.properties[name] = try compile(property) }
        switch object["additionalProperties"] {
        case .bool(false): schema.forbidsAdditionalProperties = true
        case .object(let members): schema.additionalProperties = try compile(.object(members))
        default: break
        }
        schema.propertyNames = try object["propertyNames"].map { try compile($0) }
        schema.minLength = object["minLength"]?.number.map { Int($0) }
        schema.maxLength = object["maxLength"]?.number.map { Int($0) }
        if let pattern = object["pattern"]?.string {
            do {
                schema.pattern = try ECMAPattern(pattern)
            } catch {
                throw Failure(description: "pattern \(pattern) does not compile: \(error)")
            }
        }
        schema.enumeration = object["enum"]?.array
        schema.constant = object["const"]
        schema.minimum = object["minimum"]?.number
        schema.maximum = object["maximum"]?.number
        schema.exclusiveMinimum = object["exclusiveMinimum"]?.number
        schema.exclusiveMaximum = object["exclusiveMaximum"]?.number
        schema.minItems = object["minItems"]?.number.map { Int($0) }
        schema.maxItems = object["maxItems"]?.number.map { Int($0) }
        schema.uniqueItems = object["uniqueItems"]?.bool ?? false
        schema.items = try object["items"].map { try compile($0) }
        schema.allOf = try (object["allOf"]?.array ?? []).map { try compile($0) }
        schema.anyOf = try (object["anyOf"]?.array ?? []).map { try compile($0) }
        schema.oneOf = try (object["oneOf"]?.array ?? []).map { try compile($0) }
        schema.format = object["format"]?.string
        schema.problem = ProblemCode(in: object)
    }
}
