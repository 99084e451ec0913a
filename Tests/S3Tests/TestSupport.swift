import Digests
import Foundation
import HTTPClient
import S3
import Testing

enum TestEnvironment {
    /// CI sets `CI`; there a missing server or corpus fails instead of skipping.
    static var isCI: Bool {
        guard let value = ProcessInfo.processInfo.environment["CI"] else { return false }
        return !value.isEmpty && value != "0" && value.lowercased() != "false"
    }
}

/// The S3 server `deploy/local/up.sh --infra-only` starts (moto, signatures checked),
/// found through `BUILDCHAIN_TEST_S3_*` (see `.local/env`).
enum S3TestServer {
    static let variables = [
        "BUILDCHAIN_TEST_S3_ENDPOINT", "BUILDCHAIN_TEST_S3_REGION", "BUILDCHAIN_TEST_S3_BUCKET",
        "BUILDCHAIN_TEST_S3_ACCESS_KEY_ID", "BUILDCHAIN_TEST_S3_SECRET_ACCESS_KEY",
    ]

    static var isConfigured: Bool { configuration != nil }

    static let configuration: S3Configuration? = {
        let environment = ProcessInfo.processInfo.environment
        let values = variables.compactMap { environment[$0].flatMap { $0.isEmpty ? nil : $0 } }
        guard values.count == variables.count else { return nil }
        return S3Configuration(
            endpoint: values[0], region: values[1], bucket: values[2], accessKeyID: values[3],
            secretAccessKey: values[4])
    }()

    static func requireConfiguration() throws -> S3Configuration {
        try #require(configuration, "set \(variables.joined(separator: ", ")) (source .local/env)")
    }

    static let skipReason: Comment =
        "BUILDCHAIN_TEST_S3_* not set: run deploy/local/up.sh --infra-only and source .local/env"
}

/// A key prefix no other test run uses.
func uniquePrefix(_ name: String) -> String {
    "s3-tests/\(name)/\(UUID().uuidString.lowercased())/"
}

/// Deterministic bytes that differ from one MiB to the next.
enum TestData {
    static let block: [UInt8] = {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<(1 << 20)).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
    }()

    static func bytes(count: Int, seed: Int = 0) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(count)
        var index = seed
        while out.count < count {
            var block = self.block
            withUnsafeBytes(of: UInt64(index).littleEndian) { block.replaceSubrange(0..<8, with: $0) }
            out.append(contentsOf: block.prefix(count - out.count))
            index += 1
        }
        return out
    }

    /// Writes `count` bytes to a new temporary file; returns its path and SHA-256.
    static func file(count: Int) throws -> (path: String, sha256: String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("s3-test-\(UUID().uuidString)").path
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw CocoaError(.fileWriteUnknown) }
        defer { try? handle.close() }
        var hasher = SHA256()
        var written = 0
        var index = 0
        while written < count {
            let block = bytes(count: min(1 << 20, count - written), seed: index)
            hasher.update(block)
            try handle.write(contentsOf: block)
            written += block.count
            index += 1
        }
        return (path, hasher.finalize().hex)
    }

    /// `count` bytes as chunks of `chunkSize`, so a stream is cut at odd places.
    static func chunks(count: Int, chunkSize: Int) -> [[UInt8]] {
        let all = bytes(count: count)
        return stride(from: 0, to: count, by: chunkSize).map { Array(all[$0..<min(count, $0 + chunkSize)]) }
    }
}

/// Reads a whole streamed body, hashing it; returns size and SHA-256.
func drain(_ body: ClientResponseBody) async throws -> (size: Int, sha256: String) {
    var hasher = SHA256()
    var size = 0
    for try await chunk in body {
        hasher.update(chunk)
        size += chunk.count
    }
    return (size, hasher.finalize().hex)
}

