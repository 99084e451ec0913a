import Digests
import Foundation

/// A one-layer docker-archive tarball assembled with `tar` and `gzip`, laid out as Kaniko's
/// `--tar-path` writes it: `manifest.json`, the config as `sha256:<hex>`, the layer as `<hex>.tar.gz`.
struct MinimalImage {
    let path: String
    let configDigest: String
    let layerDigest: String

    static func make(in directory: String, repoTag: String) async throws -> MinimalImage {
        let work = directory + "/minimal-image"
        let layer = work + "/layer"
        let image = work + "/image"
        for path in [layer, image] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        try Data("hello from the stand-in\n".utf8).write(to: URL(fileURLWithPath: layer + "/hello.txt"))
        try await Command.run([
            "tar", "--mtime=@0", "--owner=0", "--group=0", "-cf", work + "/layer.tar", "-C", layer, "hello.txt",
        ])
        let diffID = "sha256:" + SHA256.hash(try Data(contentsOf: URL(fileURLWithPath: work + "/layer.tar"))).hex
        try await Command.run(["gzip", "-n", work + "/layer.tar"])
        let compressed = try Data(contentsOf: URL(fileURLWithPath: work + "/layer.tar.gz"))
        let layerHex = SHA256.hash(compressed).hex
        try compressed.write(to: URL(fileURLWithPath: image + "/\(layerHex).tar.gz"))

        let config = Data(
            #"{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["\#(diffID)"]}}"#
                .utf8)
        let configHex = SHA256.hash(config).hex
        try config.write(to: URL(fileURLWithPath: image + "/sha256:\(configHex)"))
        let manifest =
            #"[{"Config":"sha256:\#(configHex)","RepoTags":["\#(repoTag)"],"Layers":["\#(layerHex).tar.gz"]}]"#
        try Data(manifest.utf8).write(to: URL(fileURLWithPath: image + "/manifest.json"))
        let path = directory + "/standin-image.tar"
        try await Command.run(
            ["tar", "-cf", path, "-C", image, "manifest.json", "sha256:\(configHex)", "\(layerHex).tar.gz"])
        try FileManager.default.removeItem(atPath: work)
        return MinimalImage(path: path, configDigest: "sha256:" + configHex, layerDigest: "sha256:" + layerHex)
    }
}
