import Digests
import Foundation

public enum MediaType {
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerLayer = "application/vnd.docker.image.rootfs.diff.tar"
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"

    /// Every manifest kind a tag may point at, for `Accept`.
    static let anyManifest = [dockerManifest, dockerManifestList, ociManifest, ociIndex]
}

public enum ManifestFormat: Sendable {
    /// Docker image manifest v2, schema 2: what Kaniko and `docker push` send.
    case docker
    case oci
}

/// The image manifest pushed for an archive. Its bytes are built once and
/// never re-encoded: the registry names the manifest by their SHA-256.
public struct ImageManifest: Sendable, Equatable {
    public let mediaType: String
    public let bytes: [UInt8]
    /// `sha256:<hex>` of `bytes`.
    public let digest: String

    public init(archive: DockerArchive, format: ManifestFormat = .docker) throws(ImageManifestError) {
        let configType = format == .docker ? MediaType.dockerConfig : MediaType.ociConfig
        var layers: [Descriptor] = []
        for layer in archive.layers {
            let type: String
            switch (format, layer.compression) {
            case (.docker, .gzip): type = MediaType.dockerLayerGzip
            case (.docker, .none): type = MediaType.dockerLayer
            case (.docker, .zstd): throw ImageManifestError.zstdNeedsOCI(layer: layer.digest)
            case (.oci, .gzip): type = MediaType.ociLayerGzip
            case (.oci, .none): type = MediaType.ociLayer
            case (.oci, .zstd): type = MediaType.ociLayerZstd
            }
            layers.append(Descriptor(mediaType: type, size: layer.size, digest: layer.digest))
        }
        let manifest = Manifest(
            schemaVersion: 2, mediaType: format == .docker ? MediaType.dockerManifest : MediaType.ociManifest,
            config: Descriptor(
                mediaType: configType, size: Int64(archive.config.bytes.count), digest: archive.config.digest),
            layers: layers)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings and integers cannot fail.
        bytes = [UInt8](try! encoder.encode(manifest))
        mediaType = manifest.mediaType
        digest = "sha256:" + SHA256.hash(bytes).hex
    }

    private struct Manifest: Encodable {
        let schemaVersion: Int
        let mediaType: String
        let config: Descriptor
        let layers: [Descriptor]
    }

    private struct Descriptor: Encodable {
        let mediaType: String
        let size: Int64
        let digest: String
    }
}

public enum ImageManifestError: Error, Sendable, Equatable, CustomStringConvertible {
    case zstdNeedsOCI(layer: String)

    public var description: String {
        switch self {
        case .zstdNeedsOCI(let layer): "layer \(layer) is zstd-compressed: only an OCI manifest can carry it"
        }
    }
}
