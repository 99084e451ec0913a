import Digests
import Foundation
import HTTPClient

/// AWS Signature Version 4, for header signing (an `Authorization` header)
/// and query signing (presigned URLs). Pure: no clock, no I/O.
public struct SigV4Signer: Sendable {
    public static let algorithm = "AWS4-HMAC-SHA256"
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    public struct Options: Sendable {
        /// Resolve `.`/`..` and empty path segments before signing (false for S3).
        public var normalizePath: Bool
        /// Encode the wire path again (every service but S3).
        public var encodePathTwice: Bool
        /// Add and sign `x-amz-content-sha256` in header signing (S3 requires it).
        public var addContentSHA256Header: Bool
        /// Include `X-Amz-Security-Token` in what is signed; when false it is
        /// added after signing (some services want it that way).
        public var signSessionToken: Bool

        public init(
            normalizePath: Bool = true, encodePathTwice: Bool = true, addContentSHA256Header: Bool = false,
            signSessionToken: Bool = true
        ) {
            self.normalizePath = normalizePath
            self.encodePathTwice = encodePathTwice
            self.addContentSHA256Header = addContentSHA256Header
            self.signSessionToken = signSessionToken
        }

        public static let s3 = Options(normalizePath: false, encodePathTwice: false, addContentSHA256Header: true)
    }

    /// What the signature says about the body.
    public enum Payload: Sendable {
        case unsigned
        case sha256(hex: String)
        case bytes([UInt8])

        public static let empty = Payload.bytes([])

        var hash: String {
            switch self {
            case .unsigned: SigV4Signer.unsignedPayload
            case .sha256(let hex): hex.lowercased()
            case .bytes(let bytes): SHA256.hash(bytes).hex
            }
        }
    }

    /// The request as it will be sent: `path` as on the wire (percent-encoded
    /// where needed), `query` as decoded names and values.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var query: [(name: String, value: String)]
        public var headers: HTTPHeaders

        public init(method: String, path: String, query: [(name: String, value: String)] = [], headers: HTTPHeaders) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
        }

        /// Splits a request target (`/path?a=1&b`) into path and decoded query items.
        public init(method: String, target: String, headers: HTTPHeaders) {
            let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            var query: [(name: String, value: String)] = []
            if parts.count > 1 {
                for pair in parts[1].split(separator: "&") {
                    let nameValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    query.append(
                        (
                            URIEncoding.decode(String(nameValue[0])),
                            nameValue.count > 1 ? URIEncoding.decode(String(nameValue[1])) : ""
                        ))
                }
            }
            self.init(method: method, path: String(parts[0]), query: query, headers: headers)
        }
    }

    public struct HeaderSignature: Sendable {
        public let canonicalRequest: String
        public let stringToSign: String
        public let signature: String
        public let authorization: String
        /// Fields to add to the request: `X-Amz-Date`, the token and content
        /// hash when they apply, and `Authorization`.
        public let headers: HTTPHeaders
    }

    public struct QuerySignature: Sendable {
        public let canonicalRequest: String
        public let stringToSign: String
        public let signature: String
        /// The full query string to send, already encoded, signature included.
        public let query: String
    }

    public var credentials: AWSCredentials
    public var region: String
    public var service: String
    public var options: Options

    public init(credentials: AWSCredentials, region: String, service: String, options: Options = .init()) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.options = options
    }

    public func signHeaders(_ request: Request, payload: Payload, date: Date) -> HeaderSignature {
        let stamp = Timestamp(date)
        let payloadHash = payload.hash
        var added = HTTPHeaders()
        added.add("X-Amz-Date", stamp.dateTime)
        if options.addContentSHA256Header { added.add("x-amz-content-sha256", payloadHash) }
        if let token = credentials.sessionToken, options.signSessionToken { added.add("X-Amz-Security-Token", token) }

        var signed = request.headers
        for field in added { signed.set(field.name, field.value) }
        let headers = CanonicalRequest.headers(signed)
        let canonical = canonicalRequest(
            request, query: CanonicalRequest.query(request.query), headers: headers, payloadHash: payloadHash)
        let stringToSign = self.stringToSign(canonical, stamp: stamp)
        let signature = sign(stringToSign, stamp: stamp)
        let authorization =
            "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope(stamp)), "
            + "SignedHeaders=\(headers.signed), Signature=\(signature)"
        if let token = credentials.sessionToken, !options.signSessionToken { added.add("X-Amz-Security-Token", token) }
        added.add("Authorization", authorization)
        return HeaderSignature(
            canonicalRequest: canonical, stringToSign: stringToSign, signature: signature,
            authorization: authorization, headers: added)
    }

    /// `expires` is the URL's lifetime in seconds (AWS allows 1...604800).
    public func signQuery(_ request: Request, payload: Payload, date: Date, expires: Int) -> QuerySignature {
        let stamp = Timestamp(date)
        let headers = CanonicalRequest.headers(request.headers)
        var items = request.query
        items.append(("X-Amz-Algorithm", Self.algorithm))
        items.append(("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(stamp))"))
        items.append(("X-Amz-Date", stamp.dateTime))
        items.append(("X-Amz-Expires", String(expires)))
        items.append(("X-Amz-SignedHeaders", headers.signed))
        if let token = credentials.sessionToken, options.signSessionToken {
            items.append(("X-Amz-Security-Token", token))
        }
        let query = CanonicalRequest.query(items)
        let canonical = canonicalRequest(request, query: query, headers: headers, payloadHash: payload.hash)
        let stringToSign = self.stringToSign(canonical, stamp: stamp)
        let signature = sign(stringToSign, stamp: stamp)
        var sent = query + "&X-Amz-Signature=" + signature
        if let token = credentials.sessionToken, !options.signSessionToken {
            sent += "&X-Amz-Security-Token=" + URIEncoding.encode(token)
        }
        return QuerySignature(
            canonicalRequest: canonical, stringToSign: stringToSign, signature: signature, query: sent)
    }

    private func canonicalRequest(
        _ request: Request, query: String, headers: (canonical: String, signed: String), payloadHash: String
    ) -> String {
        let uri = CanonicalRequest.uri(
            path: request.path, normalize: options.normalizePath, encodeTwice: options.encodePathTwice)
        return CanonicalRequest.assemble(
            method: request.method, uri: uri, query: query, headers: headers, payloadHash: payloadHash)
    }

    private func scope(_ stamp: Timestamp) -> String {
        "\(stamp.date)/\(region)/\(service)/aws4_request"
    }

    private func stringToSign(_ canonicalRequest: String, stamp: Timestamp) -> String {
        [Self.algorithm, stamp.dateTime, scope(stamp), SHA256.hash(canonicalRequest).hex].joined(separator: "\n")
    }

    private func sign(_ stringToSign: String, stamp: Timestamp) -> String {
        let dateKey = HMACSHA256.authenticate(stamp.date, key: Array("AWS4\(credentials.secretAccessKey)".utf8))
        let regionKey = HMACSHA256.authenticate(region, key: dateKey.bytes)
        let serviceKey = HMACSHA256.authenticate(service, key: regionKey.bytes)
        let signingKey = HMACSHA256.authenticate("aws4_request", key: serviceKey.bytes)
        return HMACSHA256.authenticate(stringToSign, key: signingKey.bytes).hex
    }
}

/// The two UTC forms SigV4 uses: `20150830` and `20150830T123600Z`.
struct Timestamp {
    let date: String
    let dateTime: String

    init(_ instant: Date) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: instant)
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        date = pad(parts.year, 4) + pad(parts.month, 2) + pad(parts.day, 2)
        dateTime = date + "T" + pad(parts.hour, 2) + pad(parts.minute, 2) + pad(parts.second, 2) + "Z"
    }
}
