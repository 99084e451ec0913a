import Foundation
import RequestValidation

/// One request of the boundary test: the operation's base request with one value changed.
struct LimitProbe {
    var method: String
    var path: [String: String]
    var query: [String: String] = [:]
    var headers: [String: String] = [:]
    var body: JSONNode?
    /// The value put just outside or inside the limit, when it is a string (to check refusals never echo it).
    var probed: String?

    func uri(_ operation: SpecOperation) -> String {
        var uri = operation.path
        for (name, value) in path {
            var allowed = CharacterSet.urlPathAllowed
            if name != "key" { allowed.remove("/") }
            uri = uri.replacingOccurrences(of: "{\(name)}", with: value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)
        }
        guard !query.isEmpty else { return uri }
        var components = URLComponents()
        components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        return uri + "?" + (components.percentEncodedQuery ?? "")
    }
}

/// Builds, for one limit of a spec, a request just outside it and requests just inside it, from
/// a valid base request: the operation's test base body, else the spec's example, else one
/// made from the schema. Values are chosen with the validator's own schema check, so an inside
/// probe is valid as a whole and an outside probe breaks exactly the limit's keyword; whether the
/// service then refuses or accepts them is what the test checks.
struct LimitProbes {
    let limit: Limit
    /// Units a string filler is made of, tried in order (hints first).
    let fillers: [String]
    let baseBody: JSONNode?

    var operation: SpecOperation { limit.operation }

    static let uuid = "3f0c2b52-6a55-4c4e-9a1e-0a4f1c3b5d7e"

    /// The base request: every path parameter and required header given a valid value.
    func base() -> LimitProbe? {
        var probe = LimitProbe(method: operation.method, path: [:], body: baseBody)
        for parameter in operation.parameters {
            guard parameter.location == .path || parameter.required else { continue }
            guard let value = Self.sample(parameter.schema, fillers: fillers)?.string else { return nil }
            if parameter.location == .path { probe.path[parameter.name] = value } else { probe.headers[parameter.name] = value }
        }
        if operation.body != nil, probe.body == nil { probe.body = operation.body.flatMap { Self.sample($0, fillers: fillers) } }
        return probe
    }

    /// (outside, [inside]) or nil when this limit cannot be exercised.
    func probes() -> (outside: LimitProbe, inside: [LimitProbe])? {
        guard let base = base() else { return nil }
        switch limit.location {
        case .parameter(let parameter):
            return parameterProbes(parameter, base: base)
        case .body(let path):
            return bodyProbes(path, base: base)
        }
    }

    private func parameterProbes(_ parameter: SpecOperation.Parameter, base: LimitProbe) -> (LimitProbe, [LimitProbe])? {
        func with(_ value: String?) -> LimitProbe {
            var probe = base
            switch parameter.location {
            case .path: probe.path[parameter.name] = value
            case .query: probe.query[parameter.name] = value
            case .header: probe.headers[parameter.name] = value
            }
            probe.probed = value
            return probe
        }
        if limit.keyword == "required" {
            guard let value = Self.sample(parameter.schema, fillers: fillers)?.string else { return nil }
            return (with(nil), [with(value)])
        }
        let accepts = { (text: String) in parameter.schema.accepts(Self.parameterValue(text, parameter.schema)) }
        let breaks = { (text: String) in
            parameter.schema.brokenKeyword(by: Self.parameterValue(text, parameter.schema)) == limit.keyword
        }
        guard let (outside, inside) = values(schema: limit.schema, accepts: { $0.map(Self.text).map(accepts) ?? false },
                                             breaks: { $0.map(Self.text).map(breaks) ?? false })
        else { return nil }
        return (with(Self.text(outside)), inside.map { with(Self.text($0)) })
    }

    private func bodyProbes(_ path: [Limit.Step], base: LimitProbe) -> (LimitProbe, [LimitProbe])? {
        guard let schema = operation.body, let body = base.body else { return nil }
        func with(_ value: JSONNode?) -> LimitProbe {
            var probe = base
            probe.body = Self.setting(value, at: path, in: body)
            probe.probed = value?.string
            return probe
        }
        switch limit.keyword {
        case "required":
            guard let member = limit.member, let object = Self.value(at: path, in: body)?.object else { return nil }
            var without = object
            without[member] = nil
            return (with(.object(without)), [with(.object(object))])
        case "additionalProperties":
            guard var object = Self.value(at: path, in: body)?.object else { return nil }
            let original = object
            object["unexpected_member"] = .string("x")
            return (with(.object(object)), [with(.object(original))])
        case "propertyNames":
            guard let names = limit.schema.namesSchema else { return nil }
            let value = limit.schema.mapValueSchema.flatMap { Self.sample($0, fillers: fillers) } ?? .string("x")
            let good = Self.strings(fillers).first { names.accepts(.string($0)) }
            let bad = ["9x", "-x", "a b", "x=y", ".x", "", String(repeating: "a", count: 300)].first {
                !names.accepts(.string($0))
            }
            guard let good, let bad else { return nil }
            let outside = with(.object([bad: value]))
            return (outside, [with(.object([good: value]))])
        default:
            let accepts = { (value: JSONNode?) in schema.accepts(Self.setting(value, at: path, in: body)) }
            let breaks = { (value: JSONNode?) in
                schema.brokenKeyword(by: Self.setting(value, at: path, in: body)) == limit.keyword
            }
            guard let (outside, inside) = values(schema: limit.schema, accepts: accepts, breaks: breaks) else { return nil }
            return (with(outside), inside.map(with))
        }
    }

    /// A value just outside the limit's keyword and the values just inside it.
    private func values(
        schema: Schema, accepts: (JSONNode?) -> Bool, breaks: (JSONNode?) -> Bool
    ) -> (JSONNode, [JSONNode])? {
        let bounds = schema.bounds
        var outside: [JSONNode] = []
        var inside: [JSONNode] = []
        switch limit.keyword {
        case "maxLength":
            let n = bounds.maxLength!
            for unit in fillers where accepts(.string(Self.fill(unit, n))) && breaks(.string(Self.fill(unit, n + 1))) {
                return (.string(Self.fill(unit, n + 1)), [.string(Self.fill(unit, n))])
            }
            return nil
        case "minLength":
            let n = bounds.minLength!
            for unit in fillers where accepts(.string(Self.fill(unit, n))) && breaks(.string(Self.fill(unit, n - 1))) {
                return (.string(Self.fill(unit, n - 1)), [.string(Self.fill(unit, n))])
            }
            return nil
        case "minimum":
            outside = [.number(bounds.minimum! - 1)]
            inside = [.number(bounds.minimum!)]
        case "maximum":
            outside = [.number(bounds.maximum! + 1)]
            inside = [.number(bounds.maximum!)]
        case "enum":
            inside = schema.enumValues ?? []
            outside = inside.compactMap(\.string).map { .string("not-" + $0) } + [.string("none-of-these"), .number(12345)]
        case "const":
            inside = schema.constValue.map { [$0] } ?? []
            outside = [.string("something-else"), .number(0)]
        case "format":
            inside = [.string(Self.uuid)]
            outside = [.string("not-a-uuid"), .string(String(Self.uuid.dropLast()))]
        case "pattern":
            inside = (Self.sample(schema, fillers: fillers).map { [$0] } ?? []) + Self.strings(fillers).map(JSONNode.string)
            outside = ["a\n", "", "-", " ", "!", "a b", "A", "-a", "é", "9", "_", "a/b/c/d"].map(JSONNode.string)
            inside = Array(inside.filter(accepts).prefix(1))
        case "type":
            let types = schema.typeNames
            outside = types.contains("string") ? [.number(1), .bool(true)] : [.string("x"), .array([])]
            inside = []
        default:
            return nil
        }
        guard let out = outside.first(where: breaks) else { return nil }
        inside = inside.filter(accepts)
        if limit.keyword == "type" || inside.isEmpty {
            // The base value itself is inside (for `type`, and as a fallback).
            guard limit.keyword == "type" else { return nil }
            return (out, [])
        }
        return (out, inside)
    }

    // MARK: values

    static func fill(_ unit: String, _ count: Int) -> String {
        guard count > 0 else { return "" }
        var text = String(repeating: unit, count: count / unit.count + 1).prefix(count)
        if text.hasSuffix("/") { text = text.dropLast() + "a" }
        return String(text)
    }

    static func strings(_ fillers: [String]) -> [String] {
        ["a", "main", "x1", "A", "a1b2"] + [1, 3, 8, 40, 64].flatMap { n in fillers.map { fill($0, n) } }
    }

    /// A value `schema` accepts: its example, default or enum, else one made from its type.
    static func sample(_ schema: Schema, fillers: [String]) -> JSONNode? {
        let source = schema.resolved.source
        var candidates: [JSONNode] = (source["examples"]?.array ?? []) + [source["default"], source["example"]].compactMap { $0 }
        candidates += schema.enumValues ?? []
        let types = schema.typeNames
        if types.contains("object") || (!schema.propertySchemas.isEmpty) {
            var members: [String: JSONNode] = [:]
            for name in schema.requiredMembers {
                guard let property = schema.propertySchemas[name], let value = sample(property, fillers: fillers) else { return nil }
                members[name] = value
            }
            candidates.append(.object(members))
        }
        if types.contains("string") || types.isEmpty {
            if schema.resolved.format == "uuid" { candidates.append(.string(uuid)) }
            candidates += strings(fillers).map(JSONNode.string)
        }
        if types.contains("integer") || types.contains("number") {
            candidates += [schema.bounds.minimum.map(JSONNode.number), .number(1)].compactMap { $0 }
        }
        if types.contains("boolean") { candidates.append(.bool(false)) }
        if types.contains("array") { candidates.append(.array([])) }
        return candidates.first { schema.accepts($0) }
    }

    static func text(_ value: JSONNode) -> String {
        switch value {
        case .string(let text): text
        case .number(let number): number.rounded() == number ? String(Int64(number)) : String(number)
        case .bool(let flag): String(flag)
        default: "x"
        }
    }

    static func parameterValue(_ text: String, _ schema: Schema) -> JSONNode {
        let types = schema.typeNames
        if !types.isDisjoint(with: ["integer", "number"]), let number = Double(text) { return .number(number) }
        return .string(text)
    }

    /// The member a probe under `.anyMember` takes: the map's first in the base body, else a name
    /// every names schema of ours takes.
    static func member(of object: JSONNode?) -> String {
        object?.object?.keys.sorted().first ?? "LIMIT_PROBE"
    }

    static func value(at path: [Limit.Step], in value: JSONNode) -> JSONNode? {
        guard let step = path.first else { return value }
        let rest = Array(path.dropFirst())
        switch step {
        case .member(let name): return value[name].flatMap { self.value(at: rest, in: $0) }
        case .anyMember: return value[member(of: value)].flatMap { self.value(at: rest, in: $0) }
        case .item: return value.array?.first.flatMap { self.value(at: rest, in: $0) }
        }
    }

    /// `body` with `value` at `path` (nil: the member removed), objects made on the way.
    static func setting(_ value: JSONNode?, at path: [Limit.Step], in body: JSONNode) -> JSONNode {
        guard let step = path.first else { return value ?? .null }
        let rest = Array(path.dropFirst())
        let name: String
        switch step {
        case .item: return .array([setting(value, at: rest, in: body.array?.first ?? .object([:]))])
        case .member(let member): name = member
        case .anyMember: name = member(of: body)
        }
        var object = body.object ?? [:]
        object[name] = rest.isEmpty && value == nil ? nil : setting(value, at: rest, in: object[name] ?? .object([:]))
        return .object(object)
    }
}
