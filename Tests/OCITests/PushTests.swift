import Digests
import Foundation
import HTTPClient
import OCI
import Synchronization
import Testing

/// Pushes to the registry of `BUILDCHAIN_TEST_REGISTRY` (plain HTTP, no auth), each test to
/// a repository of its own, and checks the result with skopeo, an independent client.
@Suite(
    .enabled(if: TestEnvironment.hasRegistryOrCI, "needs BUILDCHAIN_TEST_REGISTRY (deploy/local/up.sh --infra-only)"))
struct PushTests {
    private func destination(_ name: String, tag: String = "v1") throws -> OCIReference {
        try OCIReference(
            parsing: "\(try TestEnvironment.requireRegistry())/oci-test/\(TestEnvironment.uniqueName(name)):\(tag)")
    }

    private func client(chunkSize: Int64? = 64 << 20) -> RegistryClient {
        RegistryClient(
            http: TestEnvironment.http, configuration: .init(chunkSize: chunkSize), logger: TestEnvironment.logger)
    }

    private func skopeoInspect(_ reference: OCIReference) async throws -> (digest: String, layers: [String]) {
        let output = try await Shell.run(["skopeo", "inspect", "--tls-verify=false", "docker://\(reference)"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        return (try #require(json["Digest"] as? String), try #require(json["Layers"] as? [String]))
    }

    @Test(arguments: [ImageFixture.Layout.buildah, .kaniko])
    func pushedImageIsWhatSkopeoPullsBack(layout: ImageFixture.Layout) async throws {
        try await TestEnvironment.withTemporaryDirectory { directory in
            let fixture = try await ImageFixture.make(in: directory)
            let archive = try await DockerArchive.open(path: fixture.path(layout))
            let destination = try destination("push-\(layout)")
            let events = Mutex<[PushEvent]>([])
            let registry = client()

            let result = try await registry.push(archive: archive, to: destination) { event in
                events.withLock { $0.append(event) }
            }
            #expect(result.blobsUploaded == archive.layers.count + 1)
            #expect(result.blobsSkipped == 0)
            #expect(result.bytesUploaded == archive.layers.reduce(Int64(archive.config.bytes.count)) { $0 + $1.size })
            #expect(result.reference.digest == result.manifestDigest)
            #expect(events.withLock { $0.last } == .manifestPushed(digest: result.manifestDigest, reference: "v1"))

            let inspected = try await skopeoInspect(destination)
            #expect(inspected.digest == result.manifestDigest)
            #expect(inspected.layers == archive.layers.map(\.digest))
            #expect(try await registry.resolveDigest(destination) == result.manifestDigest)

            let pulled = directory + "/pulled"
            try await Shell.run([
                "skopeo", "copy", "--quiet", "--src-tls-verify=false", "docker://\(destination)", "dir:\(pulled)",
            ])
            let manifest = try Data(contentsOf: URL(fileURLWithPath: pulled + "/manifest.json"))
            #expect("sha256:" + SHA256.hash(manifest).hex == result.manifestDigest)
            for digest in archive.layers.map(\.digest) + [archive.config.digest] {
                let blob = try Data(contentsOf: URL(fileURLWithPath: pulled + "/" + digest.dropFirst("sha256:".count)))
                #expect("sha256:" + SHA256.hash(blob).hex == digest)
            }

            events.withLock { $0.removeAll() }
            let again = try await registry.push(archive: archive, to: destination) { event in
                events.withLock { $0.append(event) }
            }
            #expect(again.manifestDigest == result.manifestDigest)
            #expect(again.blobsUploaded == 0)
            #expect(again.bytesUploaded == 0)
            #expect(again.blobsSkipped == archive.layers.count + 1)
            #expect(events.withLock { $0.filter { if case .blobSkipped = $0 { false } else { true } }.count } == 1)
        }
    }

    @Test func chunkedUploadReportsProgressPerChunk() async throws {
        try await TestEnvironment.withTemporaryDirectory { directory in
            let fixture = try await ImageFixture.make(in: directory)
            let archive = try DockerArchive(path: fixture.path(.buildah))
            let destination = try destination("chunked")
            let progress = Mutex<[String: [Int64]]>([:])
            let result = try await client(chunkSize: 1 << 20).push(archive: archive, to: destination) { event in
                if case .blobUploadProgress(let digest, let sent, _) = event {
                    progress.withLock { $0[digest, default: []].append(sent) }
                }
            }
            let largest = try #require(archive.layers.max { $0.size < $1.size })
            let steps = progress.withLock { $0[largest.digest] ?? [] }
            #expect(steps.count == Int((largest.size + (1 << 20) - 1) >> 20))
            #expect(steps.last == largest.size)
            #expect(try await skopeoInspect(destination).digest == result.manifestDigest)
        }
    }

    @Test func mountsBlobsFromAnotherRepository() async throws {
        try await TestEnvironment.withTemporaryDirectory { directory in
            let fixture = try await ImageFixture.make(in: directory)
            let archive = try DockerArchive(path: fixture.path(.kaniko))
            let first = try destination("mount-source")
            let second = try destination("mount-target")
            let registry = client()
            _ = try await registry.push(archive: archive, to: first)
            let result = try await registry.push(archive: archive, to: second, mountFrom: [first.repository])
            #expect(result.blobsMounted == archive.layers.count + 1)
            #expect(result.bytesUploaded == 0)
            #expect(try await skopeoInspect(second).layers == archive.layers.map(\.digest))
        }
    }

    @Test func cancellationStopsThePushBeforeTheManifest() async throws {
        try await TestEnvironment.withTemporaryDirectory { directory in
            let fixture = try await ImageFixture.make(in: directory)
            let archive = try DockerArchive(path: fixture.path(.buildah))
            let destination = try destination("cancel")
            let registry = client(chunkSize: 256 << 10)
            let started = AsyncStream<Void>.makeStream()
            let push = Task {
                try await registry.push(archive: archive, to: destination) { event in
                    if case .blobUploadStarted = event { started.continuation.yield() }
                }
            }
            for await _ in started.stream { break }
            push.cancel()
            await #expect(throws: CancellationError.self) { try await push.value }
            let error = await #expect(throws: RegistryError.self) { try await registry.resolveDigest(destination) }
            #expect(error?.code == "MANIFEST_UNKNOWN")
        }
    }

    @Test func resolvesTheSeededBaseImageLikeSkopeo() async throws {
        let base = try #require(
            ProcessInfo.processInfo.environment["BUILDCHAIN_TEST_BASE_IMAGE"].flatMap { $0.isEmpty ? nil : $0 }
                ?? TestEnvironment.registry.map { "\($0)/library/busybox:1.36" })
        let reference = try OCIReference(parsing: base)
        #expect(try await client().resolveDigest(reference) == (try await skopeoInspect(reference)).digest)
    }

    @Test func unknownTagAndBlobAreReportedAsSuch() async throws {
        let reference = try destination("missing", tag: "nope")
        let error = await #expect(throws: RegistryError.self) { try await client().resolveDigest(reference) }
        #expect(error?.code == "MANIFEST_UNKNOWN")
        #expect(error?.status == 404)
        #expect(try await client().blobExists("sha256:" + String(repeating: "0", count: 64), in: reference) == false)
    }

    @Test func blobChangedOnDiskIsRefusedWithTheRegistryCode() async throws {
        try await TestEnvironment.withTemporaryDirectory { directory in
            let fixture = try await ImageFixture.make(in: directory)
            let archive = try DockerArchive(path: fixture.path(.buildah))
            // The file changes between reading and pushing: the registry sees other bytes than the digest says.
            let layer = try #require(archive.layers.last)
            let file = try #require(FileHandle(forWritingAtPath: archive.path))
            try file.seek(toOffset: UInt64(layer.offset + layer.size / 2))
            try file.write(contentsOf: [0xff, 0xfe, 0xfd])
            try file.close()
            let error = await #expect(throws: RegistryError.self) {
                try await client().push(archive: archive, to: try destination("changed"))
            }
            #expect(error?.code == "DIGEST_INVALID")
            #expect(error?.status == 400)
        }
    }
}
