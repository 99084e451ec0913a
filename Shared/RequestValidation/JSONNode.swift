/// A JSON value: the request bodies the validator checks and the spec it reads, and the stored
/// JSON documents (run requests, results) services carry inside typed responses.
/// Numbers are `Double`s; JSON Schema's `integer` is a number with no fraction.
public enum JSONNode: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONNode])
    case object([String: JSONNode])

    /// Whether this value has one of the JSON Schema type names given (an integer is a `number`
    /// too), without building a set of its own names for every value of every request body.
    func isOfType(in names: Set<String>) -> Bool {
        switch self {
        case .null: names.contains("null")
        case .bool: names.contains("boolean")
        case .number(let value): names.contains("number") || (value.rounded() == value && value.isFinite && names.contains("integer"))
        case .string: names.contains("string")
        case .array: names.contains("array")
        case .object: names.contains("object")
        }
    }

    public subscript(key: String) -> JSONNode? {
        if case .object(let members) = self { members[key] } else { nil }
    }

    public var string: String? { if case .string(let text) = self { text } else { nil } }
    public var number: Double? { if case .number(let value) = self { value } else { nil } }
    public var bool: Bool? { if case .bool(let value) = self { value } else { nil } }
    public var array: [JSONNode]? { if case .array(let items) = self { items } else { nil } }
    public var object: [String: JSONNode]? { if case .object(let members) = self { members } else { nil } }
}

extension JSONNode: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONNode].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONNode].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value.rounded() == value, abs(value) < 1e15 { try container.encode(Int64(value)) } else { try container.encode(value) }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
