import Digests
import Foundation
import OCI
import Testing

@Suite(.enabled(if: TestEnvironment.hasBuildahOrCI, "needs buildah (Debian package buildah)"))
struct DockerArchiveTests {
    @Test func readsEveryLayoutOfOneImage() async throws {
        try await TestEnvironment.withTemporaryDirectory { directory in
            let fixture = try await ImageFixture.make(in: directory)
            for layout in ImageFixture.Layout.allCases {
                let archive = try await DockerArchive.open(path: fixture.path(layout))
                let expected = fixture.expected(layout)
                #expect(archive.config.digest == expected.config, "\(layout)")
                #expect(archive.repoTags == expected.repoTags, "\(layout)")
                #expect(archive.layers.map(\.digest) == expected.layers.map(\.digest), "\(layout)")
                #expect(archive.layers.map(\.size) == expected.layers.map(\.size), "\(layout)")
                let compression: DockerArchive.Compression = layout == .kaniko ? .gzip : .none
                #expect(archive.layers.allSatisfy { $0.compression == compression }, "\(layout)")
                // The config keeps the uncompressed digests in every layout.
                #expect(archive.config.diffIDs == fixture.expected(.buildah).layers.map(\.digest), "\(layout)")
            }
        }
    }

    @Test func layerOffsetsPointAtTheLayerBytes() async throws {
        try await TestEnvironment.withTemporaryDirectory { directory in
            let fixture = try await ImageFixture.make(in: directory)
            let archive = try DockerArchive(path: fixture.path(.kaniko))
            let file = try #require(FileHandle(forReadingAtPath: archive.path))
            defer { try? file.close() }
            for layer in archive.layers {
                try file.seek(toOffset: UInt64(layer.offset))
                let bytes = try #require(try file.read(upToCount: Int(layer.size)))
                #expect(bytes.count == Int(layer.size))
                #expect(Array(bytes.prefix(2)) == [0x1f, 0x8b])
                #expect("sha256:" + SHA256.hash(bytes).hex == layer.digest)
            }
        }
    }

    @Test func dockerManifestNamesLayerMediaTypesByCompression() async throws {
        try await TestEnvironment.withTemporaryDirectory { directory in
            let fixture = try await ImageFixture.make(in: directory)
            for (layout, layerType) in [
                (ImageFixture.Layout.buildah, MediaType.dockerLayer), (.kaniko, MediaType.dockerLayerGzip),
            ] {
                let archive = try DockerArchive(path: fixture.path(layout))
                let manifest = try ImageManifest(archive: archive)
                let json = try #require(try JSONSerialization.jsonObject(with: Data(manifest.bytes)) as? [String: Any])
                #expect(json["mediaType"] as? String == MediaType.dockerManifest)
                #expect(json["schemaVersion"] as? Int == 2)
                let config = try #require(json["config"] as? [String: Any])
                #expect(config["mediaType"] as? String == MediaType.dockerConfig)
                #expect(config["digest"] as? String == archive.config.digest)
                let layers = try #require(json["layers"] as? [[String: Any]])
                #expect(layers.map { $0["digest"] as? String } == archive.layers.map(\.digest))
                #expect(layers.allSatisfy { $0["mediaType"] as? String == layerType })
                #expect(manifest.digest == "sha256:" + SHA256.hash(manifest.bytes).hex)
                // Same archive, same bytes: a re-run pushes the same digest.
                #expect(try ImageManifest(archive: archive) == manifest)
            }
        }
    }

    @Test func archiveWithoutManifestIsRejected() async throws {
        try await TestEnvironment.withTemporaryDirectory { directory in
            try Data("x".utf8).write(to: URL(fileURLWithPath: directory + "/file"))
            try await Shell.run(["tar", "-cf", directory + "/plain.tar", "-C", directory, "file"])
            #expect(throws: DockerArchiveError.missingManifest) { try DockerArchive(path: directory + "/plain.tar") }
        }
    }

    @Test func manifestNamingAMissingLayerIsRejected() async throws {
        try await TestEnvironment.withTemporaryDirectory { directory in
            let manifest = #"[{"Config":"c.json","RepoTags":[],"Layers":["nope.tar"]}]"#
            try Data(manifest.utf8).write(to: URL(fileURLWithPath: directory + "/manifest.json"))
            try Data("{}".utf8).write(to: URL(fileURLWithPath: directory + "/c.json"))
            try await Shell.run(["tar", "-cf", directory + "/broken.tar", "-C", directory, "manifest.json", "c.json"])
            #expect(throws: DockerArchiveError.missingMember("nope.tar")) {
                try DockerArchive(path: directory + "/broken.tar")
            }
        }
    }
}
