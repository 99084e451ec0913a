import Foundation
import HTTPClient
import Logging
import PathBytes

/// One bucket of an S3-compatible service, over the shared libcurl client.
/// Every request is signed with SigV4; transient failures are retried.
public struct S3Client: Sendable {
    public let configuration: S3Configuration
    let http: HTTPClient
    let logger: Logger
    let endpoint: S3Endpoint
    let signer: SigV4Signer
    let observer: (any MultipartUploadObserver)?

    public init(
        configuration: S3Configuration, httpClient: HTTPClient, logger: Logger = Logger(label: "s3"),
        observer: (any MultipartUploadObserver)? = nil
    ) throws {
        try configuration.validate()
        self.configuration = configuration
        self.observer = observer
        self.http = httpClient
        self.logger = logger
        self.endpoint = try S3Endpoint(configuration.endpoint)
        self.signer = SigV4Signer(
            credentials: configuration.credentials, region: configuration.region, service: "s3", options: .s3)
    }

    /// One S3 call before signing.
    struct Operation: Sendable {
        enum Body: Sendable {
            case none
            case bytes([UInt8])
            /// A body HTTPClient can replay (bytes or a file region).
            case request(ClientRequestBody)
            /// A body that can be sent once (a stream), made anew for each attempt.
            case oneShot(@Sendable () throws -> ClientRequestBody)
        }

        var method: String
        /// nil: the configured bucket.
        var bucket: String? = nil
        /// nil: the bucket itself.
        var key: String? = nil
        var query: [(name: String, value: String)] = []
        var headers = HTTPHeaders()
        var body = Body.none
        var payload = SigV4Signer.Payload.empty
        /// Safe to repeat although not idempotent by method (CompleteMultipartUpload).
        var retryNonIdempotent = false

        var resource: String { key ?? bucket ?? "" }
    }

    /// The signed request for one attempt, dated now.
    func clientRequest(_ operation: Operation, date: Date = Date()) throws -> ClientRequest {
        let location = endpoint.location(
            bucket: operation.bucket ?? configuration.bucket, key: operation.key, style: configuration.addressingStyle)
        var headers = operation.headers
        headers.set("Host", location.host)
        let signature = signer.signHeaders(
            SigV4Signer.Request(
                method: operation.method, path: location.path, query: operation.query, headers: headers),
            payload: operation.payload, date: date)
        for field in signature.headers { headers.set(field.name, field.value) }
        let body: ClientRequestBody =
            switch operation.body {
            case .none: .none
            case .bytes(let bytes): .bytes(bytes)
            case .request(let body): body
            case .oneShot(let make): try make()
            }
        var retry: RetryPolicy? = nil
        if operation.retryNonIdempotent {
            retry = http.configuration.retry
            retry?.retryNonIdempotent = true
        }
        return ClientRequest(
            method: operation.method, url: location.url(query: CanonicalRequest.query(operation.query)),
            headers: headers, body: body, retry: retry)
    }

    /// Sends the operation and returns a 2xx response (body still streaming),
    /// or throws `S3Error`. HTTPClient already retries replayable idempotent
    /// requests on connection failures and 429/502/503/504; here S3's own
    /// transient errors (500 InternalError, RequestTimeout…) are retried too,
    /// and one-shot bodies, which HTTPClient cannot replay, are made anew.
    func perform(_ operation: Operation) async throws -> ClientResponse {
        let oneShot: Bool
        if case .oneShot = operation.body { oneShot = true } else { oneShot = false }
        let repeatable = operation.method != "POST" || operation.retryNonIdempotent
        let maxAttempts = repeatable ? max(1, http.configuration.retry.maxAttempts) : 1
        var attempt = 1
        while true {
            try Task.checkCancellation()
            let isLast = attempt >= maxAttempts
            do {
                let response = try await http.execute(try clientRequest(operation))
                if (200..<300).contains(response.status) { return response }
                let error = await s3Error(from: response, operation: operation)
                let retriedBelow = !oneShot && [429, 502, 503, 504].contains(error.status)
                guard !isLast, error.isTransient || (oneShot && error.status == 429), !retriedBelow else { throw error }
                logger.notice(
                    "retrying S3 request after error",
                    metadata: [
                        "s3.method": "\(operation.method)", "s3.resource": "\(operation.resource)",
                        "s3.code": "\(error.code)", "attempt": "\(attempt)",
                    ])
            } catch let error as HTTPClientError
                where !isLast && (oneShot && error.isTransient || error.isRewindFailure)
            {
                logger.notice(
                    "retrying S3 request after failure",
                    metadata: [
                        "s3.method": "\(operation.method)", "s3.resource": "\(operation.resource)", "error": "\(error)",
                        "attempt": "\(attempt)",
                    ])
            }
            try await Task.sleep(for: backoff(afterAttempt: attempt - 1))
            attempt += 1
        }
    }

    /// Sends the operation and reads the whole (small) answer.
    func performCollecting(
        _ operation: Operation, limit: Int = 16 << 20
    ) async throws -> (headers: HTTPHeaders, body: [UInt8]) {
        let response = try await perform(operation)
        return (response.headers, try await response.collect(upTo: limit))
    }

    private func s3Error(from response: ClientResponse, operation: Operation) async -> S3Error {
        let body = (try? await response.collect(upTo: 1 << 20)) ?? []
        return S3ResponseParser.error(
            status: response.status, body: body, requestID: response.headers["x-amz-request-id"],
            resource: operation.resource)
    }

    /// Full jitter over an exponential ceiling, as HTTPClient does.
    private func backoff(afterAttempt attempt: Int) -> Duration {
        let policy = http.configuration.retry
        let ceiling = min(policy.maxBackoff, policy.initialBackoff * (1 << min(attempt, 20)))
        let millis = max(1, ceiling.components.seconds * 1000 + ceiling.components.attoseconds / 1_000_000_000_000_000)
        return .milliseconds(Int64.random(in: (millis / 2)...millis))
    }

    static func validate(key: String) throws(S3ClientError) {
        if key.isEmpty { throw .invalidKey("empty") }
        if key.utf8.count > 1024 { throw .invalidKey("longer than 1024 bytes") }
        // libcurl removes dot segments from URLs, so such a key would reach another object.
        // Split on bytes: a "/" inside a Character (before a combining mark) is still a separator.
        if key.slashSegments().contains(where: \.isDotSegment) {
            throw .invalidKey("'.' and '..' segments are not supported: \(key)")
        }
    }
}

extension HTTPClientError {
    /// libcurl found a reused connection dead after it had started sending
    /// the body, and could not rewind the body to resend it on a new one
    /// (CURLE_SEND_FAIL_REWIND). HTTPClient does not count that as transient;
    /// for S3, which rebuilds the request, it is.
    var isRewindFailure: Bool {
        if case .transferFailed(_, 65, _) = self { return true }
        return false
    }
}
