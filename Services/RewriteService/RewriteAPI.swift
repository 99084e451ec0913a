import Dockerfile
import Hummingbird

/// `POST /v1/rewrites` request, as in openapi/rewrite.yaml.
struct RewriteRequest: Decodable, Sendable {
    var dockerfile: String
    /// Registry → proxy target; the service's `REWRITE_PROXIES` when absent.
    var proxies: [String: String]?
    var buildArgs: [String: String]?
    /// Resolve each rewritten reference on the proxy registry and write it as `name:tag@digest`.
    var pin: Bool?
    /// The build's target platform (`linux/arm64`), for `TARGETARCH` and the like; `linux/amd64` when absent.
    var platform: String?

    enum CodingKeys: String, CodingKey {
        case dockerfile, proxies, pin, platform
        case buildArgs = "build_args"
    }
}

/// `POST /v1/rewrites` response: the rewrite result's fields under snake_case names.
struct RewriteResponse: ResponseEncodable, Sendable {
    var dockerfile: String
    var changes: [Change]
    var warnings: [Warning]
    var buildArgs: [String: String]
    var buildArgChanges: [BuildArgChange]
    var pulledImages: [PulledImage]
    var diff: String

    enum CodingKeys: String, CodingKey {
        case dockerfile, changes, warnings, diff
        case buildArgs = "build_args"
        case buildArgChanges = "build_arg_changes"
        case pulledImages = "pulled_images"
    }

    init(_ result: RewriteResult, pinned: (text: String, changes: [Change])? = nil) {
        dockerfile = pinned?.text ?? result.text
        changes = pinned?.changes ?? result.changes
        warnings = result.warnings
        buildArgs = result.buildArgs
        buildArgChanges = result.buildArgChanges
        pulledImages = result.pulledImages
        diff = pinned.map { UnifiedDiff.make(from: result.original, to: $0.text) } ?? result.unifiedDiff
    }
}
