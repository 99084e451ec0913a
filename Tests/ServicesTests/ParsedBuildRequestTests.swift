import ContractCoding
import Foundation
import GatewayAPI
import RequestValidation
import Testing

@testable import Gateway

/// `BuildRequest(parsed:)` reads a parsed body as the generated decoder decodes its bytes, on
/// random bodies: of the request's shape (every one read by hand, to the decoder's value), and
/// with members missing, unknown, `null` or of another type (read by hand only to the
/// decoder's value, else left to it).
@Suite struct ParsedBuildRequestTests {
    @Test func randomBodiesAreReadAsTheDecoderReadsThem() throws {
        let validator = try RequestValidator(spec: OpenAPIDocument.json)
        let (operation, _) = try #require(validator.operation(method: "POST", path: "/v1/builds"))
        let decoder = JSONDecoder.buildchain()
        var readByHand = 0, leftToDecoder = 0
        for round in 0..<3_000 {
            let shaped = round % 2 == 0
            let body = Self.body(shaped: shaped)
            let bytes = Array(try JSONSerialization.data(withJSONObject: body))
            let parsed = try #require(validator.check(operation, body: bytes).parsed)
            let decoded = try? decoder.decode(BuildJobRequest.self, from: Data(bytes))
            if let read = BuildJobRequest(parsed: parsed) {
                #expect(read == decoded, "\(String(decoding: bytes, as: UTF8.self))")
                readByHand += 1
            } else {
                #expect(!shaped, "a body of the request's shape: \(String(decoding: bytes, as: UTF8.self))")
                leftToDecoder += 1
            }
        }
        #expect(readByHand >= 1_500 && leftToDecoder > 300, "\(readByHand) read by hand, \(leftToDecoder) left")
    }

    /// Escapes and bytes where two JSON readers may part: lone and paired surrogates, NUL,
    /// escaped slashes, raw control characters and bytes that are not UTF-8.
    @Test func oddStringsAreReadAsTheDecoderReadsThem() throws {
        let validator = try RequestValidator(spec: OpenAPIDocument.json)
        let (operation, _) = try #require(validator.operation(method: "POST", path: "/v1/builds"))
        let strings: [[UInt8]] = [
            #"\ud800"#, #"\udc00"#, #"a\ud800b"#, #"\ud83d\ude00"#, #"\ud83d"#, #"\u0000"#, #"\/x\/"#, #"\u00e9\u0301"#,
            "\u{1}", "\t", "\n", "\u{7F}", #"\x"#, #"\u12"#, #"\uZZZZ"#,
        ].map { Array($0.utf8) } + [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80]]
        let decoder = JSONDecoder.buildchain()
        var read = 0
        for string in strings {
            for place in ["workload", "ref", "build_args"] {
                let quoted = [UInt8(ascii: "\"")] + string + [UInt8(ascii: "\"")]
                let value = place == "build_args" ? Array(#"{"A":"#.utf8) + quoted + Array("}".utf8) : quoted
                let body: [UInt8] =
                    Array(#"{"service":"s","repository":{"url":"https://h/a.git","ref":"#.utf8)
                    + (place == "ref" ? value : Array(#""main""#.utf8)) + Array(#"},"workload":"#.utf8)
                    + (place == "workload" ? value : Array(#""w""#.utf8))
                    + (place == "build_args" ? Array(#","build_args":"#.utf8) + value : []) + Array("}".utf8)
                let decoded = try? decoder.decode(BuildJobRequest.self, from: Data(body))
                guard let parsed = validator.check(operation, body: body).parsed else {
                    #expect(decoded == nil, "parsed by the decoder only: \(body)")
                    continue
                }
                if let hand = BuildJobRequest(parsed: parsed) {
                    #expect(hand == decoded, "\(String(decoding: body, as: UTF8.self)) \(body)")
                    read += 1
                }
            }
        }
        #expect(read > 10)
    }

    private static let texts = ["", "a", "main", "é/ü \"q\" \\", "\u{1}\t", "😀", "registry.example.com/a/b:1"]

    private static func text() -> String { texts.randomElement()! }

    /// A value of any JSON type, for the members given another type.
    private static func other() -> Any {
        [NSNull(), true, 1, 2.5, "x", ["x"], ["a": "b"], ["a": NSNull()]].randomElement()!
    }

    private static func body(shaped: Bool) -> [String: Any] {
        var body: [String: Any] = [
            "workload": text(), "service": text(), "repository": ["url": text(), "ref": text()],
        ]
        let optional: [(String, () -> Any)] = [
            ("context_path", text), ("dockerfile_path", text), ("target", text), ("build_args", map),
            ("secret_build_args", map), ("secrets", map), ("cache", { Bool.random() }), ("mirrors", { Bool.random() }),
            ("fresh", { Bool.random() }), ("dry_run", { Bool.random() }), ("push", { ["destination": text()] }),
        ]
        for (name, value) in optional where Bool.random() { body[name] = Int.random(in: 0..<8) == 0 ? NSNull() : value() }
        guard !shaped else { return body }
        // One to three changes the decoder may refuse (or, for a null, take as absent).
        for _ in 0..<Int.random(in: 1...3) {
            let names = ["workload", "service", "repository"] + optional.map(\.0)
            switch Int.random(in: 0..<5) {
            case 0: body[names.randomElement()!] = nil
            case 1: body["unknown_\(Int.random(in: 0..<3))"] = text()
            case 2: body[names.randomElement()!] = other()
            case 3: body["repository"] = ["url": text(), "ref": text(), "extra": Bool.random() ? text() : other()]
            default:
                let name = ["build_args", "secret_build_args", "secrets", "push"].randomElement()!
                body[name] = [name == "push" ? "destination" : "A": other()]
            }
        }
        return body
    }

    private static func map() -> Any {
        Dictionary(uniqueKeysWithValues: (0..<Int.random(in: 0...3)).map { ("K\($0)\(text())", text()) })
    }
}
