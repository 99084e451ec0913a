import ArtifactAPI
import HTTPTypes
import OpenAPIRuntime
import Synchronization

/// An artifact's media type, which openapi/artifact.yaml can only write `*/*` ("stored byte for
/// byte whatever its type"): the generated code hands `putArtifact` no `Content-Type`, and
/// answers `getArtifact` and `headArtifact` with the spec's literal type. Around those three
/// operations this carries the upload's `Content-Type` in (`received`) and the recorded type out
/// (`answer`), as swift-openapi-generator's examples carry request facts in task locals.
///
/// It also drops `Accept` there: the generated code would refuse (406) a client that does not
/// accept `*/*`, while an artifact is sent as it was stored whatever the client says it accepts.
struct ArtifactMediaType: ServerMiddleware {
    /// The upload's `Content-Type` as sent (nil when it had none), while `putArtifact` runs.
    @TaskLocal static var received: String?
    /// Where `getArtifact` and `headArtifact` leave the recorded type, while they run.
    @TaskLocal static var answer: Answer?

    final class Answer: Sendable {
        private let value = Mutex<String?>(nil)

        func send(_ type: String) { value.withLock { $0 = type } }
        var type: String? { value.withLock { $0 } }
    }

    private static let operations: Set<String> = [
        Operations.PutArtifact.id, Operations.GetArtifact.id, Operations.HeadArtifact.id,
    ]

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard Self.operations.contains(operationID) else { return try await next(request, body, metadata) }
        var anyAccepted = request
        anyAccepted.headerFields[.accept] = nil
        let forwarded = anyAccepted
        let answer = Answer()
        var (response, responseBody) = try await Self.$received.withValue(request.headerFields[.contentType]) {
            try await Self.$answer.withValue(answer) { try await next(forwarded, body, metadata) }
        }
        if let type = answer.type { response.headerFields[.contentType] = type }
        return (response, responseBody)
    }
}
