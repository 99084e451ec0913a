/// Where and how to reach one bucket of an S3-compatible service.
/// Printing it never shows the secret or the session token.
public struct S3Configuration: Sendable, CustomStringConvertible {
    public enum AddressingStyle: String, Sendable {
        /// `https://endpoint/bucket/key`
        case path
        /// `https://bucket.endpoint/key`
        case virtualHost
    }

    /// Base URL of the service, e.g. `https://s3.eu-west-1.amazonaws.com` or `http://127.0.0.1:9000`.
    public var endpoint: String
    public var region: String
    public var bucket: String
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    public var addressingStyle: AddressingStyle
    /// Objects of at least this many bytes go up as a multipart upload.
    public var multipartThreshold: Int64
    public var partSize: Int
    /// Parts read into memory and being sent at once, per upload.
    public var maxPartsInFlight: Int

    public static let minimumPartSize = 5 << 20
    public static let maximumPartSize = 5 << 30
    public static let maximumPartCount = 10_000

    public init(
        endpoint: String, region: String, bucket: String, accessKeyID: String, secretAccessKey: String,
        sessionToken: String? = nil, addressingStyle: AddressingStyle = .path, multipartThreshold: Int64 = 64 << 20,
        partSize: Int = 16 << 20, maxPartsInFlight: Int = 4
    ) {
        self.endpoint = endpoint
        self.region = region
        self.bucket = bucket
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.addressingStyle = addressingStyle
        self.multipartThreshold = multipartThreshold
        self.partSize = partSize
        self.maxPartsInFlight = maxPartsInFlight
    }

    public var credentials: AWSCredentials {
        AWSCredentials(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey, sessionToken: sessionToken)
    }

    public var description: String {
        "S3Configuration(endpoint: \(endpoint), region: \(region), bucket: \(bucket), accessKeyID: \(accessKeyID), "
            + "secretAccessKey: <redacted>, sessionToken: \(sessionToken == nil ? "none" : "<redacted>"), "
            + "addressingStyle: \(addressingStyle.rawValue), multipartThreshold: \(multipartThreshold), "
            + "partSize: \(partSize), maxPartsInFlight: \(maxPartsInFlight))"
    }

    func validate() throws(S3ClientError) {
        func fail(_ reason: String) -> S3ClientError { .invalidConfiguration(reason) }
        if region.isEmpty { throw fail("region is empty") }
        if bucket.isEmpty { throw fail("bucket is empty") }
        if accessKeyID.isEmpty || secretAccessKey.isEmpty { throw fail("access key id or secret access key is empty") }
        if partSize < Self.minimumPartSize || partSize > Self.maximumPartSize {
            throw fail("part size \(partSize) is outside \(Self.minimumPartSize)...\(Self.maximumPartSize)")
        }
        if multipartThreshold < Int64(partSize) {
            throw fail("multipart threshold \(multipartThreshold) is below the part size \(partSize)")
        }
        if maxPartsInFlight < 1 { throw fail("maxPartsInFlight must be at least 1") }
    }
}
