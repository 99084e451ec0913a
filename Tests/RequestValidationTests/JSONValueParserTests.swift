import Foundation
import Testing

@testable import RequestValidation

/// `JSONNode(parsing:)` parses by hand; Foundation's `JSONDecoder` is the reference.
@Suite struct JSONValueParserTests {
    private func decoded(_ text: String) throws -> JSONNode {
        try JSONDecoder().decode(JSONNode.self, from: Data(text.utf8))
    }

    @Test(arguments: [
        #"{"workload":"bench","repository":{"url":"https://git.example.com/a.git","ref":"main"},"build_args":{}}"#,
        #"  [1, -2, 0, 0.5, -0.25, 1e3, 1E-2, 2.5e+4, 12345678901234567890, 1.7976931348623157e308, -0.0]  "#,
        #"{"a":true,"b":false,"c":null,"d":[],"e":{},"f":[[[]],{"g":[null]}]}"#,
        #"{"escapes":"\" \\ \/ \b \f \n \r \t \u00e9 \u20AC \ud83d\ude00 \u0001 end"}"#,
        #"{"raw":"é € 😀 中文","empty":"","slash":"a/b"}"#,
        #""just a string""#, "42", "true", "null", "\t\r\n{ \"spaced\" : [ 1 , 2 ] }\n",
    ])
    func parsesAsJSONDecoderDoes(text: String) throws {
        #expect(try JSONNode(parsing: text) == (try decoded(text)), "\(text)")
    }

    @Test(arguments: [
        "", " ", "{", "}", "[1 2]", #"{"a"}"#, #"{"a":}"#, #"{a:1}"#, "[01]", "[1.]", "[.5]",
        "[1e]", "[+1]", "[-]", "[1e400]", "tru", "nul", "[true false]", "{} {}", #""unterminated"#, "\"a\u{1}b\"",
        #""\x""#, #""\u12""#, #""\ud800""#, #""\ud800\u0041""#, #""\udc00""#, "[NaN]", "'single'",
    ])
    func refusesWhatJSONDecoderRefuses(text: String) {
        #expect(throws: DecodingError.self, "\(text)") { try JSONNode(parsing: text) }
        #expect(throws: (any Error).self, "\(text)") { try decoded(text) }
    }

    /// Where the two differ: JSONDecoder takes trailing commas, and keeps another of duplicate
    /// keys; the parser keeps the last, as PostgreSQL's jsonb (where its input comes from) does.
    @Test func refusesTrailingCommasAndKeepsTheLastOfDuplicateKeys() throws {
        for text in ["[1,]", #"{"a":1,}"#] {
            #expect(throws: DecodingError.self, "\(text)") { try JSONNode(parsing: text) }
        }
        #expect(try JSONNode(parsing: #"{"dup":1,"dup":2}"#) == .object(["dup": .number(2)]))
    }

    /// For request bodies, the first of duplicate keys, as `JSONDecoder` (the generated decoders) keeps.
    @Test func keepsTheFirstOfDuplicateKeysAsJSONDecoderWhenAsked() throws {
        let text = #"{"dup":1,"dup":2,"in":{"x":"a","x":"b"}}"#
        #expect(try JSONValueParser.parse(text, firstKeyWins: true) == (try decoded(text)))
        #expect(try JSONValueParser.parse(text, firstKeyWins: true) == .object(["dup": .number(1), "in": .object(["x": .string("a")])]))
    }

    @Test func refusesNestingDeeperThanTheLimit() throws {
        let limit = JSONValueParser.maxDepth
        let deep = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        #expect(try JSONNode(parsing: deep) == (try decoded(deep)))
        let deeper = "[" + deep + "]"
        #expect(throws: DecodingError.self) { try JSONNode(parsing: deeper) }
    }
}
