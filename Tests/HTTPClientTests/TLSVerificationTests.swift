import Foundation
import HTTPClient
import Testing

/// TLS against a real `openssl s_server` with a self-signed certificate.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "needs /usr/bin/openssl"))
struct TLSVerificationTests {
    @Test func rejectsAnUntrustedCertificateAndAcceptsItWhenTrusted() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bc-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let certificate = folder + "/cert.pem"
        try run(
            "/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", folder + "/key.pem",
            "-out", certificate, "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1")
        let port = try freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        server.arguments = [
            "s_server", "-accept", "127.0.0.1:\(port)", "-cert", certificate, "-key", folder + "/key.pem", "-www", "-quiet",
        ]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { server.terminate() }
        let url = "https://127.0.0.1:\(port)/"

        var trusting = HTTPClient.Configuration()
        trusting.caBundlePath = certificate
        trusting.retry = RetryPolicy(maxAttempts: 20, initialBackoff: .milliseconds(100), maxBackoff: .milliseconds(200))
        let accepted = try await HTTPClient(configuration: trusting).send(ClientRequest(url: url))
        #expect(accepted.status == 200)

        let error = await #expect(throws: HTTPClientError.self) {
            try await HTTPClient().send(ClientRequest(url: url, retry: .never))
        }
        #expect(String(describing: error).lowercased().contains("certificate"))
    }

    private func run(_ executable: String, _ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
