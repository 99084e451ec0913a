import Foundation
import S3
import ServiceKit

/// Settings of artifact-service, read from the environment (see CommonConfiguration).
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `ARTIFACT_BACKEND` | `filesystem` or `s3` | filesystem |
/// | `ARTIFACT_ROOT` | folder of the filesystem store, objects under `objects/` (opened without following symbolic links, never outside it); with S3, only temporary files for pushes | /var/lib/buildchain/artifacts |
/// | `S3_ENDPOINT` | S3 API URL, e.g. https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:9000 | required for s3 |
/// | `S3_REGION` | signing region | us-east-1 |
/// | `S3_BUCKET` | bucket | required for s3 |
/// | `S3_ACCESS_KEY_ID`, `S3_SECRET_ACCESS_KEY`, `S3_SESSION_TOKEN` | credentials | required for s3 (token optional) |
/// | `S3_ADDRESSING` | `path` or `virtual-host` | path |
/// | `S3_PART_SIZE_MB` | multipart part size | 16 |
/// | `S3_PARTS_IN_FLIGHT` | parts of one upload in memory and being sent at once (each is `S3_PART_SIZE_MB`) | 3 |
/// | `S3_UPLOAD_STALE_AFTER` | a multipart upload whose process stopped heartbeating this long is aborted | 60s |
/// | `REGISTRY_AUTH_FILE` | docker `config.json` with registry credentials for pushes | none |
/// | `REGISTRY_INSECURE` | registries reached over plain HTTP besides loopback, comma-separated | none |
/// | `PRESIGN_MAX_SECONDS` | longest lifetime of a presigned URL | 86400 |
public struct ArtifactConfiguration: Sendable {
    public static let defaultPort = 8084

    public enum Backend: String, Sendable {
        case filesystem
        case s3
    }

    public var common: CommonConfiguration
    public var backend: Backend
    public var root: String
    /// The bucket, with `S3_PART_SIZE_MB` as both the part size and the multipart threshold.
    public var s3: S3Configuration?
    /// With S3: an open multipart upload not heartbeated this long belongs to a dead process.
    public var uploadStaleAfter: Duration = .seconds(60)
    public var registryAuthFile: String?
    public var insecureRegistries: Set<String> = []
    public var presignMaxSeconds = 86400

    public init(common: CommonConfiguration, backend: Backend = .filesystem, root: String, s3: S3Configuration? = nil) {
        self.common = common
        self.backend = backend
        self.root = root
        self.s3 = s3
    }

    public init(reading env: EnvironmentReader) throws {
        let backend = try env.enumeration("ARTIFACT_BACKEND", default: Backend.filesystem)
        var s3: S3Configuration?
        if backend == .s3 {
            let addressing = env.string("S3_ADDRESSING", default: "path")
            guard ["path", "virtual-host"].contains(addressing) else {
                throw ConfigurationError.invalid(variable: "S3_ADDRESSING", value: addressing, expected: "path or virtual-host")
            }
            let partSize = try env.int("S3_PART_SIZE_MB", default: 16, in: 5...5120) << 20
            // Uploads are streamed: one smaller than a part goes up as one PUT from memory, a
            // larger one starts its multipart upload once its first part is full.
            s3 = S3Configuration(
                endpoint: try env.requiredString("S3_ENDPOINT"), region: env.string("S3_REGION", default: "us-east-1"),
                bucket: try env.requiredString("S3_BUCKET"), accessKeyID: try env.requiredString("S3_ACCESS_KEY_ID"),
                secretAccessKey: try env.requiredSecret("S3_SECRET_ACCESS_KEY").value,
                sessionToken: env.secret("S3_SESSION_TOKEN")?.value,
                addressingStyle: addressing == "virtual-host" ? .virtualHost : .path, multipartThreshold: Int64(partSize),
                partSize: partSize, maxPartsInFlight: try env.int("S3_PARTS_IN_FLIGHT", default: 3, in: 1...64))
        }
        self.init(
            common: try CommonConfiguration(reading: env, defaultPort: Self.defaultPort, requiresDatabase: true),
            backend: backend, root: env.string("ARTIFACT_ROOT", default: "/var/lib/buildchain/artifacts"), s3: s3)
        uploadStaleAfter = try env.duration("S3_UPLOAD_STALE_AFTER", default: uploadStaleAfter)
        registryAuthFile = env.string("REGISTRY_AUTH_FILE")
        insecureRegistries = Set(env.list("REGISTRY_INSECURE"))
        presignMaxSeconds = try env.int("PRESIGN_MAX_SECONDS", default: presignMaxSeconds, in: 1...604_800)
    }
}
