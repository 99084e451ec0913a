import Hummingbird
import Testing

@testable import ServiceKit

@Suite struct JSONBodyScanTests {
    @Test(arguments: [
        (#"{"a":"x\u0000y"}"#, true),
        (#"{"a":"\u0000"}"#, true),
        (#"{"a":"\\u0000"}"#, false),  // an escaped backslash, then the text u0000
        (#"{"a":"\\\u0000"}"#, true),
        (#"{"a":"\u0001 \u00e9"}"#, false),
        (#"{"a":"plain"}"#, false),
        (#"{"a":"\u00\u0000"}"#, true),  // a cut-short escape, then a real one
    ])
    func findsOnlyRealNULEscapes(json: String, expected: Bool) {
        #expect(JSONTextScan(json.utf8).escapesNUL == expected, "\(json)")
    }

    @Test(arguments: [
        (#"{"a":null}"#, true),
        (#"[1, null]"#, true),
        (#"{"a":{"b":[true,false,null]}}"#, true),
        (#"{"a":"null","n":"\"null\""}"#, false),
        (#"{"a":"say \"null\" \\"}"#, false),
        (#"{"none":true,"nothing":false,"n":1e5}"#, false),
    ])
    func findsNullOnlyOutsideStrings(json: String, expected: Bool) {
        #expect(JSONTextScan(json.utf8).hasNullLiteral == expected, "\(json)")
    }
}
