import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import OpenAPIHummingbird
import OpenAPIRuntime
import PathBytes
import ServiceKit

/// The transport the generated handlers are registered on: `router`, with a key's slashes kept.
///
/// openapi/artifact.yaml's `/v1/artifacts/{key}` keeps the slashes of a key
/// (`contexts/<id>.tar.gz`), but swift-openapi-hummingbird would match `{key}` against one path
/// segment (and Hummingbird looks the route up before any router middleware could rewrite the
/// path). So those operations are routed as `/v1/artifacts/**`, as the hand-written routes were,
/// and handed the rest of the path, still percent-encoded, as `key`: the generated code
/// percent-decodes it once, and `ArtifactKey` splits it at `/` bytes. Bytes, not characters,
/// throughout: a key starting with a combining mark makes "/\u{0301}" one `Character`.
struct ArtifactKeyRouting<Context: RequestContext>: ServerTransport {
    let router: Router<Context>

    private static var template: String { "/v1/artifacts/{key}" }

    func register(
        _ handler: @escaping @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?),
        method: HTTPRequest.Method, path: String
    ) throws {
        guard path == Self.template else { return router.register(handler, method: method, path: path) }
        router.register(
            { request, body, metadata in
                var metadata = metadata
                metadata.pathParameters["key"] = try Self.key(of: request)
                return try await handler(request, body, metadata)
            }, method: method, path: ArtifactKey.pathPrefix + "**")
    }

    /// The path after `/v1/artifacts/`, as sent.
    private static func key(of request: HTTPRequest) throws -> Substring {
        let key = URI(request.path ?? "").path.droppingFirstBytes(ArtifactKey.pathPrefix.utf8.count)
        // The generated code would read an undecodable key as an empty one; refused here in its own words.
        guard key.removingPercentEncoding != nil else {
            throw ServiceError.badRequest("the artifact key is not valid percent-encoding", code: "INVALID_KEY")
        }
        return key
    }
}
