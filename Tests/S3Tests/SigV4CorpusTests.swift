import Foundation
import HTTPClient
import S3
import Testing

/// Every case of the AWS SigV4 test suite (aws-c-auth's `v4/` folder, kept
/// in `shared/corpus/sigv4` beside the repository), reproduced byte for byte.
@Suite(
    .enabled(if: SigV4Corpus.isPresent || TestEnvironment.isCI, "SigV4 corpus not found at \(SigV4Corpus.folder.path)"))
struct SigV4CorpusTests {
    @Test func corpusIsPresent() throws {
        #expect(SigV4Corpus.caseNames.count >= 30, "expected the whole suite in \(SigV4Corpus.folder.path)")
    }

    @Test(arguments: SigV4Corpus.caseNames)
    func headerSigningMatches(caseName: String) throws {
        let testCase = try SigV4Corpus.Case(name: caseName)
        let signature = testCase.signer.signHeaders(testCase.request, payload: testCase.payload, date: testCase.date)
        #expect(signature.canonicalRequest == (try testCase.expected("header-canonical-request.txt")))
        #expect(signature.stringToSign == (try testCase.expected("header-string-to-sign.txt")))
        #expect(signature.signature == (try testCase.expected("header-signature.txt")))
        let signedRequest = try testCase.expected("header-signed-request.txt")
        #expect(signedRequest.contains("Authorization:\(signature.authorization)\n"))
    }

    @Test(arguments: SigV4Corpus.caseNames.filter { SigV4Corpus.hasQueryFiles($0) })
    func querySigningMatches(caseName: String) throws {
        let testCase = try SigV4Corpus.Case(name: caseName)
        let signature = testCase.signer.signQuery(
            testCase.request, payload: testCase.payload, date: testCase.date, expires: testCase.expires)
        #expect(signature.canonicalRequest == (try testCase.expected("query-canonical-request.txt")))
        #expect(signature.stringToSign == (try testCase.expected("query-string-to-sign.txt")))
        #expect(signature.signature == (try testCase.expected("query-signature.txt")))
        // The expected request lists the same parameters in another order, some unencoded.
        let firstLine = try testCase.expected("query-signed-request.txt").prefix { $0 != "\n" }
        let expectedQuery = try #require(
            firstLine.split(separator: "?", maxSplits: 1).last?.split(separator: " ").first)
        func decodedItems(_ query: some StringProtocol) -> Set<String> {
            Set(query.split(separator: "&").map { $0.removingPercentEncoding ?? String($0) })
        }
        #expect(decodedItems(signature.query) == decodedItems(expectedQuery))
    }
}

enum SigV4Corpus {
    /// `shared/corpus/sigv4`, a sibling of the repository root.
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/corpus/sigv4").standardizedFileURL

    static var isPresent: Bool { !caseNames.isEmpty }

    static let caseNames: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter {
            FileManager.default.fileExists(atPath: folder.appendingPathComponent("\($0)/context.json").path)
        }.sorted()
    }()

    static func hasQueryFiles(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: folder.appendingPathComponent("\(name)/query-signature.txt").path)
    }

    struct Case {
        let folder: URL
        let signer: SigV4Signer
        let request: SigV4Signer.Request
        let payload: SigV4Signer.Payload
        let date: Date
        let expires: Int

        init(name: String) throws {
            folder = SigV4Corpus.folder.appendingPathComponent(name)
            let context = try JSONDecoder().decode(
                Context.self, from: Data(contentsOf: folder.appendingPathComponent("context.json")))
            let raw = try RawRequest(Data(contentsOf: folder.appendingPathComponent("request.txt")))
            signer = SigV4Signer(
                credentials: AWSCredentials(
                    accessKeyID: context.credentials.access_key_id,
                    secretAccessKey: context.credentials.secret_access_key, sessionToken: context.credentials.token),
                region: context.region, service: context.service,
                options: .init(
                    normalizePath: context.normalize, encodePathTwice: true, addContentSHA256Header: context.sign_body,
                    signSessionToken: !(context.omit_session_token ?? false)))
            request = SigV4Signer.Request(method: raw.method, target: raw.target, headers: raw.headers)
            payload = .bytes(raw.body)
            date = try #require(ISO8601DateFormatter().date(from: context.timestamp))
            expires = context.expiration_in_seconds ?? 3600
        }

        func expected(_ file: String) throws -> String {
            try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
        }
    }

    // Field names as in context.json.
    // swiftlint:disable identifier_name
    struct Context: Decodable {
        struct Credentials: Decodable {
            let access_key_id: String
            let secret_access_key: String
            let token: String?
        }
        let credentials: Credentials
        let expiration_in_seconds: Int?
        let normalize: Bool
        let region: String
        let service: String
        let sign_body: Bool
        let timestamp: String
        let omit_session_token: Bool?
    }
    // swiftlint:enable identifier_name

    /// A raw HTTP/1.1 request: request line, header lines (a line starting
    /// with whitespace continues the previous value), blank line, body.
    struct RawRequest {
        var method = ""
        var target = ""
        var headers = HTTPHeaders()
        var body: [UInt8] = []

        init(_ data: Data) throws {
            let bytes = [UInt8](data)
            var headEnd = bytes.count
            var bodyStart = bytes.count
            if let blank = bytes.indices.first(where: { bytes[$0...].starts(with: Array("\n\n".utf8)) }) {
                headEnd = blank
                bodyStart = blank + 2
            }
            body = Array(bytes[bodyStart...])
            let lines = String(decoding: bytes[..<headEnd], as: UTF8.self).split(
                separator: "\n", omittingEmptySubsequences: false)
            let requestLine = lines[0].split(separator: " ")
            method = String(requestLine[0])
            target = requestLine.dropFirst().dropLast().joined(separator: " ")
            var fields: [(String, String)] = []
            for line in lines.dropFirst() where !line.isEmpty {
                if line.first == " " || line.first == "\t", !fields.isEmpty {
                    fields[fields.count - 1].1 += "\n" + line
                } else if let colon = line.firstIndex(of: ":") {
                    fields.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
                }
            }
            headers = HTTPHeaders(fields)
        }
    }
}
