import Foundation
import HTTPClient
import S3
import Testing

/// The worked examples of Amazon S3's SigV4 documentation ("Examples:
/// Signature Calculations in AWS Signature Version 4"), which exercise what
/// the generic suite does not: S3 path encoding, `x-amz-content-sha256`,
/// sub-resources, and presigned URLs with `UNSIGNED-PAYLOAD`.
@Suite struct S3SigningExamplesTests {
    static let credentials = AWSCredentials(
        accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let date = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
    static let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "s3", options: .s3)
    static let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    struct Example: Sendable, CustomTestStringConvertible {
        let name: String
        let method: String
        let target: String
        let headers: [(String, String)]
        let payload: SigV4Signer.Payload
        let signature: String
        var testDescription: String { name }
    }

    static let examples = [
        Example(
            name: "GET object with a range", method: "GET", target: "/test.txt", headers: [("Range", "bytes=0-9")],
            payload: .sha256(hex: emptyHash),
            signature: "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
        Example(
            name: "PUT object", method: "PUT", target: "/test$file.text",
            headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
            payload: .bytes(Array("Welcome to Amazon S3.".utf8)),
            signature: "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"),
        Example(
            name: "GET bucket lifecycle", method: "GET", target: "/?lifecycle", headers: [],
            payload: .sha256(hex: emptyHash),
            signature: "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
        Example(
            name: "GET bucket (list objects)", method: "GET", target: "/?max-keys=2&prefix=J", headers: [],
            payload: .sha256(hex: emptyHash),
            signature: "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
    ]

    @Test(arguments: examples)
    func headerSignatureMatchesTheDocumentation(example: Example) {
        var headers = HTTPHeaders(example.headers)
        headers.add("Host", "examplebucket.s3.amazonaws.com")
        let signature = Self.signer.signHeaders(
            SigV4Signer.Request(method: example.method, target: example.target, headers: headers),
            payload: example.payload, date: Self.date)
        #expect(signature.signature == example.signature)
        #expect(signature.headers["x-amz-content-sha256"] != nil)
        #expect(signature.headers["X-Amz-Date"] == "20130524T000000Z")
    }

    @Test func presignedURLMatchesTheDocumentation() throws {
        let client = try S3Client(
            configuration: S3Configuration(
                endpoint: "https://s3.amazonaws.com", region: "us-east-1", bucket: "examplebucket",
                accessKeyID: Self.credentials.accessKeyID, secretAccessKey: Self.credentials.secretAccessKey,
                addressingStyle: .virtualHost),
            httpClient: HTTPClient())
        let url = try client.presignedGetURL(key: "test.txt", expires: .seconds(86400), now: Self.date)
        #expect(
            url == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    @Test func sessionTokenIsSignedAsAHeaderAndAsAQueryParameter() {
        var credentials = Self.credentials
        credentials.sessionToken = "token/with+chars="
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "s3", options: .s3)
        let request = SigV4Signer.Request(method: "GET", target: "/k", headers: ["Host": "b.s3.amazonaws.com"])
        let headerSigned = signer.signHeaders(request, payload: .unsigned, date: Self.date)
        #expect(headerSigned.headers["X-Amz-Security-Token"] == "token/with+chars=")
        #expect(
            headerSigned.authorization.contains(
                "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"))
        let querySigned = signer.signQuery(request, payload: .unsigned, date: Self.date, expires: 60)
        #expect(querySigned.query.contains("X-Amz-Security-Token=token%2Fwith%2Bchars%3D&"))
        #expect(querySigned.canonicalRequest.hasSuffix("\nhost\nUNSIGNED-PAYLOAD"))
    }

    @Test func s3PathsAreEncodedOnceAndNeverNormalized() {
        let request = SigV4Signer.Request(method: "GET", target: "/a%20b//./c%2Bd", headers: ["Host": "h"])
        let canonical = Self.signer.signHeaders(request, payload: .unsigned, date: Self.date).canonicalRequest
        #expect(canonical.split(separator: "\n", omittingEmptySubsequences: false)[1] == "/a%20b//./c%2Bd")
        let other = SigV4Signer(credentials: Self.credentials, region: "us-east-1", service: "service")
        let twice = other.signHeaders(request, payload: .unsigned, date: Self.date).canonicalRequest
        #expect(twice.split(separator: "\n", omittingEmptySubsequences: false)[1] == "/a%2520b/c%252Bd")
    }
}
