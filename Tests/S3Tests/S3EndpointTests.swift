import HTTPClient
import S3
import Testing

@Suite struct S3EndpointTests {
    @Test func pathStyleKeepsTheBucketInThePathAndThePortInTheHost() throws {
        let endpoint = try S3Endpoint("http://127.0.0.1:9000")
        let location = endpoint.location(bucket: "artifacts", key: "builds/job 1/image+v2.tar", style: .path)
        #expect(location.host == "127.0.0.1:9000")
        #expect(location.path == "/artifacts/builds/job%201/image%2Bv2.tar")
        #expect(location.url(query: "a=1") == "http://127.0.0.1:9000/artifacts/builds/job%201/image%2Bv2.tar?a=1")
    }

    @Test func virtualHostPutsTheBucketInTheHostName() throws {
        let endpoint = try S3Endpoint("http://localhost:9000/")
        let location = endpoint.location(bucket: "artifacts", key: "a/b~c", style: .virtualHost)
        #expect(location.host == "artifacts.localhost:9000")
        #expect(location.path == "/a/b~c")
        #expect(location.url(query: "") == "http://artifacts.localhost:9000/a/b~c")
        #expect(endpoint.location(bucket: "artifacts", key: nil, style: .virtualHost).path == "/")
    }

    @Test func defaultPortsAreLeftOutOfTheHostHeader() throws {
        #expect(
            try S3Endpoint("https://s3.amazonaws.com:443").location(bucket: "b", key: "k", style: .path).host
                == "s3.amazonaws.com")
        #expect(try S3Endpoint("http://minio:80").location(bucket: "b", key: "k", style: .path).host == "minio")
        #expect(try S3Endpoint("https://minio:9443").location(bucket: "b", key: nil, style: .path).host == "minio:9443")
    }

    @Test func anEndpointPathPrefixIsKept() throws {
        let location = try S3Endpoint("https://gateway.example/s3/").location(bucket: "b", key: "k", style: .path)
        #expect(location.path == "/s3/b/k")
        #expect(location.url(query: "") == "https://gateway.example/s3/b/k")
    }

    @Test func rejectsEndpointsThatAreNotHTTPURLs() {
        #expect(throws: S3ClientError.self) { try S3Endpoint("ftp://example.com") }
        #expect(throws: S3ClientError.self) { try S3Endpoint("127.0.0.1:9000") }
        #expect(throws: S3ClientError.self) { try S3Endpoint("http://example.com/?x=1") }
    }

    @Test func configurationNeverPrintsTheSecret() {
        let configuration = S3Configuration(
            endpoint: "http://127.0.0.1:9000", region: "us-east-1", bucket: "b", accessKeyID: "AKIDEXAMPLE",
            secretAccessKey: "very-secret-value", sessionToken: "session-token-value")
        for text in ["\(configuration)", "\(configuration.credentials)", String(reflecting: configuration.credentials)]
        {
            #expect(!text.contains("very-secret-value"))
            #expect(!text.contains("session-token-value"))
            #expect(text.contains("AKIDEXAMPLE"))
        }
    }

    @Test func rejectsPartsBelowS3sMinimum() {
        let configuration = S3Configuration(
            endpoint: "http://127.0.0.1:9000", region: "us-east-1", bucket: "b", accessKeyID: "a", secretAccessKey: "s",
            partSize: 1 << 20)
        #expect(throws: S3ClientError.self) { try S3Client(configuration: configuration, httpClient: HTTPClient()) }
    }
}
