import ArtifactAPI
import BuildAPI
import CheckoutAPI
import Foundation
import GatewayAPI
import RequestValidation
import RewriteAPI
import Testing

/// The validator on its own: each service's bundled spec compiles (every pattern too), and the
/// keywords mean what JSON Schema says (lengths in code points, ECMA `$`, `$ref`, codes).
@Suite struct RequestValidatorTests {
    static let specs = [
        "gateway": GatewayAPI.OpenAPIDocument.json, "checkout-service": CheckoutAPI.OpenAPIDocument.json,
        "rewrite-service": RewriteAPI.OpenAPIDocument.json, "build-service": BuildAPI.OpenAPIDocument.json,
        "artifact-service": ArtifactAPI.OpenAPIDocument.json,
    ]

    static let spec = #"""
        {"openapi": "3.1.0", "paths": {
          "/v1/things/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": true, "x-problem-code": "INVALID_ID", "schema": {"type": "string", "format": "uuid"}}],
            "post": {"operationId": "makeThing", "x-problem-code": "INVALID_THING",
              "parameters": [{"name": "limit", "in": "query", "x-problem-code": "INVALID_LIMIT", "schema": {"type": "integer", "minimum": 1, "maximum": 5}}],
              "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}},
          "/v1/files/{key}": {"get": {"parameters": [{"name": "key", "in": "path", "required": true, "schema": {"type": "string", "maxLength": 8}}]}}
        }, "components": {"schemas": {
          "Name": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$", "maxLength": 4},
          "Thing": {"type": "object", "required": ["name"], "additionalProperties": false, "properties": {
            "name": {"$ref": "#/components/schemas/Name"},
            "kind": {"type": "string", "enum": ["a", "b"]},
            "labels": {"type": "object", "propertyNames": {"pattern": "^[A-Z]+$"}, "additionalProperties": {"type": "string", "minLength": 1}},
            "tags": {"type": "array", "maxItems": 2, "uniqueItems": true, "items": {"type": "string", "x-problem-code": "INVALID_TAG"}}
          }}
        }}}
        """#

    let validator: RequestValidator
    let thing: SpecOperation

    init() throws {
        validator = try RequestValidator(spec: Self.spec)
        thing = try #require(validator.operation(method: "POST", path: "/v1/things/x")?.0)
    }

    func body(_ json: String) -> Violation? { validator.violation(of: thing, body: Array(json.utf8)) }

    @Test(arguments: specs.keys.sorted()) func everyServiceSpecCompiles(service: String) throws {
        let validator = try RequestValidator(spec: try #require(Self.specs[service]))
        #expect(!validator.operations.isEmpty, "\(service)")
    }

    @Test func lengthsCountCodePoints() {
        #expect(body(#"{"name": "abcd"}"#) == nil)
        #expect(body(#"{"name": "abcde"}"#)?.keyword == "maxLength")
        // "é" as e + U+0301 is two code points, one Character; "ä" (U+00E4) is one of each.
        #expect(validator.violation(of: thing, body: Array(#"{"labels": {"A": "\u00e4"}, "name": "a"}"#.utf8)) == nil)
        let decomposed = try? RequestValidator(spec: Self.spec.replacingOccurrences(of: #""maxLength": 4"#, with: #""maxLength": 1"#))
        let operation = decomposed?.operation(method: "POST", path: "/v1/things/x")?.0
        #expect(operation.flatMap { decomposed?.violation(of: $0, body: Array("{\"name\": \"e\u{301}\"}".utf8)) }?.keyword != nil)
    }

    @Test func dollarMatchesOnlyAtTheEnd() {
        #expect(body(#"{"name": "ab"}"#) == nil)
        #expect(body(#"{"name": "ab\n"}"#)?.keyword == "pattern")
        #expect(body(#"{"name": "Ab"}"#)?.keyword == "pattern")
    }

    @Test func shapeIsInvalidJSONAndLimitsTheOperationsCode() {
        #expect(body(#"{}"#).map { [$0.keyword, $0.problem.code] } == ["required", "INVALID_JSON"])
        #expect(body(#"{"name": 1}"#).map { [$0.keyword, $0.problem.code] } == ["type", "INVALID_JSON"])
        #expect(body(#"{"name": "a", "other": 1}"#).map { [$0.keyword, $0.problem.code] } == ["additionalProperties", "INVALID_JSON"])
        #expect(body(#"{"name": "a", "kind": "c"}"#).map { [$0.keyword, $0.problem.code, $0.field] } == ["enum", "INVALID_THING", "kind"])
        #expect(body(#"{"name": "a", "labels": {"a": "x"}}"#).map { [$0.keyword, $0.field] } == ["pattern", "labels.a"])
        #expect(body(#"{"name": "a", "labels": {"A": ""}}"#).map { [$0.keyword, $0.field] } == ["minLength", "labels.A"])
        #expect(body(#"{"name": "a", "tags": ["x", "x"]}"#)?.keyword == "uniqueItems")
        #expect(body(#"{"name": "a", "tags": ["x", "y", "z"]}"#)?.keyword == "maxItems")
        #expect(body(#"{"name": "a", "tags": [1]}"#).map { [$0.keyword, $0.problem.code] } == ["type", "INVALID_JSON"])
        #expect(body("not json") == nil, "left to the route's decoder")
    }

    @Test func refusalsNeverCarryTheValue() {
        let secret = "s3cr3t-value-\(UUID().uuidString)"
        let found = body(#"{"name": "a", "labels": {"A": ""}, "kind": "\#(secret)"}"#)
        #expect(found != nil)
        #expect(!(found?.description.contains(secret) ?? true))
        #expect(!(found?.extensions.values.contains { $0.contains(secret) } ?? true))
    }

    @Test func parametersAndPathTemplates() throws {
        let (operation, path) = try #require(validator.operation(method: "POST", path: "/v1/things/nope"))
        let refused = validator.violation(of: operation, pathParameters: path, query: [:], header: { _ in nil })
        #expect(refused.map { [$0.keyword, $0.problem.code] } == ["format", "INVALID_ID"])
        let id = UUID().uuidString
        let (_, good) = try #require(validator.operation(method: "POST", path: "/v1/things/\(id)"))
        for (limit, expected) in [("0", "minimum"), ("6", "maximum"), ("x", "type"), ("1.5", "type")] {
            let found = validator.violation(of: operation, pathParameters: good, query: ["limit": limit], header: { _ in nil })
            #expect(found.map { [$0.keyword, $0.problem.code] } == [expected, "INVALID_LIMIT"], "limit=\(limit)")
        }
        #expect(validator.violation(of: operation, pathParameters: good, query: ["limit": "5"], header: { _ in nil }) == nil)
        // The last parameter of a template takes the rest of a longer path; percent-decoded once.
        let (files, key) = try #require(validator.operation(method: "GET", path: "/v1/files/a/b%2Fc"))
        #expect(key["key"] == "a/b%2Fc")
        #expect(validator.violation(of: files, pathParameters: key, query: [:], header: { _ in nil }) == nil)
        let (_, long) = try #require(validator.operation(method: "GET", path: "/v1/files/a/b/cdefgh"))
        #expect(validator.violation(of: files, pathParameters: long, query: [:], header: { _ in nil })?.keyword == "maxLength")
        #expect(validator.operation(method: "DELETE", path: "/v1/files/a") == nil)
    }

    @Test func theLimitsOfAnOperationAreListed() {
        let described = Set(thing.limits.map(\.description))
        for expected in [
            "makeThing path id format", "makeThing query limit minimum", "makeThing query limit maximum",
            "makeThing body required name", "makeThing body additionalProperties", "makeThing name maxLength",
            "makeThing name pattern", "makeThing kind enum", "makeThing labels propertyNames", "makeThing labels.* minLength",
            "makeThing tags maxItems", "makeThing tags uniqueItems",
        ] {
            #expect(described.contains(expected), "\(expected) in \(described.sorted())")
        }
        #expect(thing.limits.first { $0.description == "makeThing tags.[] type" }?.problem.code == "INVALID_JSON")
    }

    @Test func nulInStringsIsRefusedAfterTheSchema() {
        // The schema speaks first: a null where a string must be is a type error.
        #expect(body(#"{"name": "a", "labels": {"A": null}}"#).map { [$0.field, $0.keyword, $0.problem.code] } == ["labels.A", "type", "INVALID_JSON"])
        #expect(body(#"{"name": "a", "tags": ["x\u0000"]}"#).map { [$0.field, $0.keyword] } == ["tags.0", "U+0000"])
        #expect(body(#"{"name": "a", "labels": {"A": "a\u0000"}}"#)?.field == "labels.A")
        #expect(body(#"{"name": "a", "tags": ["\\u0000 spelled out"]}"#) == nil)
    }

    /// The body checked is the body the route decodes (`JSONDecoder`): of a repeated key the first,
    /// and what only `JSONDecoder` parses (a trailing comma) is checked too.
    @Test func theBodyIsReadAsTheGeneratedDecodersReadIt() {
        #expect(body(#"{"name": "Bad!", "name": "ok"}"#)?.field == "name")
        #expect(body(#"{"name": "ok", "name": "Bad!"}"#) == nil)
        #expect(body(#"{"name": "Bad!",}"#)?.field == "name")
    }

    /// Our requests hold no nulls; a GitHub payload (`x-foreign-format`) holds GitHub's.
    @Test func nullsAreRefusedInOurBodiesButNotInAForeignPayload() throws {
        let validator = try RequestValidator(spec: GatewayAPI.OpenAPIDocument.json)
        let (submit, _) = try #require(validator.operation(method: "POST", path: "/v1/builds"))
        let (webhook, _) = try #require(validator.operation(method: "POST", path: "/v1/webhooks/github"))
        #expect(!submit.bodyIsForeign && webhook.bodyIsForeign)
        let request = #"{"workload": "shop", "service": "api", "repository": {"url": "https://git.example.com/a.git", "ref": "main"}, "target": null}"#
        // A null where the spec declares a type breaks that type first; either way it is refused by name.
        #expect(validator.violation(of: submit, body: Array(request.utf8)).map { [$0.field, $0.keyword] } == ["target", "type"])
        #expect(validator.violation(of: webhook, body: Array(#"{"ref": "refs/heads/main", "base_ref": null}"#.utf8)) == nil)
    }

    /// The gateway's build request limits, once checked by hand in the gateway and now by its spec.
    @Test(arguments: [
        (#"{"workload": ""}"#, "workload"), (#"{"workload": "Shop"}"#, "workload"), (#"{"workload": "-shop"}"#, "workload"),
        (#"{"workload": "\#(String(repeating: "a", count: 64))"}"#, "workload"),
        (#"{"repository": {"url": "", "ref": "main"}}"#, "repository.url"),
        (#"{"repository": {"url": "https://git.example.com/a.git", "ref": ""}}"#, "repository.ref"),
        (#"{"target": "a b"}"#, "target"), (#"{"target": "-x"}"#, "target"),
        (#"{"build_args": {"1X": "v"}}"#, "build_args.1X"), (#"{"build_args": {"A-B": "v"}}"#, "build_args.A-B"),
        (#"{"secret_build_args": {"NOT-A-NAME": "x"}}"#, "secret_build_args.NOT-A-NAME"),
        (#"{"secrets": {"../etc": "x"}}"#, "secrets.../etc"), (#"{"secrets": {"-x": "x"}}"#, "secrets.-x"),
    ])
    func gatewayBuildRequestLimits(change: String, field: String) throws {
        let validator = try RequestValidator(spec: GatewayAPI.OpenAPIDocument.json)
        let (submit, _) = try #require(validator.operation(method: "POST", path: "/v1/builds"))
        var body = try #require(
            try JSONSerialization.jsonObject(
                with: Data(#"{"workload": "shop", "service": "api", "repository": {"url": "https://git.example.com/a.git", "ref": "main"}}"#.utf8))
                as? [String: Any])
        let changed = try #require(try JSONSerialization.jsonObject(with: Data(change.utf8)) as? [String: Any])
        body.merge(changed) { $1 }
        let found = validator.violation(of: submit, body: Array(try JSONSerialization.data(withJSONObject: body)))
        #expect(found.map { [$0.field, $0.problem.code] } == [field, "INVALID_BUILD"], "\(change)")
    }
}
