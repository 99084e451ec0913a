import Hummingbird
import HummingbirdTesting
import Processes
import ServiceKit
import Testing

extension ServiceRouterTests {
    /// curl, told to wait up to 30 s for `100 Continue`, gets it at once.
    @Test func answersExpectContinueBeforeTheBody() async throws {
        let app = makeApp { router in
            router.put("/count") { request, _ -> String in
                var count = 0
                for try await buffer in request.body { count += buffer.readableBytes }
                return "\(count)"
            }
        }
        try await app.test(.live) { client in
            let url = "http://127.0.0.1:\(try #require(client.port))/count"
            let (result, stdout, stderr) = try await ChildProcess.output(
                ProcessSpec(
                    "curl",
                    [
                        "-sS", "-v", "-X", "PUT", "--data-binary", "twelve bytes", "--expect100-timeout", "30",
                        "-H", "Expect: 100-continue", "-H", "Authorization: Bearer \(Self.token)", url,
                    ], timeout: .seconds(60)))
            #expect(result.succeeded, "\(stderr)")
            #expect(stdout == "12\n")
            #expect(stderr.contains("< HTTP/1.1 100 Continue"), "\(stderr)")
            #expect(result.elapsed < .seconds(10))
        }
    }
}
