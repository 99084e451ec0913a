import ContractCoding
import Foundation
import GatewayAPI
import HTTPTypes
import Hummingbird
import ServiceKit

/// `POST /v1/builds`, the route every build starts from, answered without the generated
/// server's per-request machinery (its bridging of the body and the answer into async
/// sequences, its converter, its middleware chain) and without Foundation's JSON encoder:
/// those were 0.22 ms of a submit's 0.58 ms of CPU in the gateway (bench/load). The handler's
/// own code (`GatewayHandlers.submitted`) records the job. The request is read from the spec
/// check's parse (`BuildRequest(parsed:)`) or decoded with the generated server's decoder, and
/// the job is written as its encoder writes it (`JobJSON`): the 202 is the route's, byte for
/// byte (SubmitFastPathTests sends each request both ways and compares).
///
/// It takes only the plain form of the request: a `Content-Type` of JSON and an `Accept` that
/// is absent or takes JSON, and a body that decodes. Anything else goes on to the generated
/// route untouched, which answers it as it always has (its refusals, and the 406 it gives
/// after the handler has run). Added after `RequestValidationMiddleware`: the body has been
/// checked against the spec's limits by then, as for the route. What the handler throws
/// reaches `ProblemMiddleware` unwrapped, which answers it as it answers the route's.
struct SubmitFastPath: RouterMiddleware {
    typealias Context = ServiceRequestContext

    let handlers: GatewayHandlers
    /// The route's path, as the router names it for `/metrics` and the traces.
    static let path = "/v1/builds"

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard request.method == .post, request.uri.path == Self.path, Self.takesPlainForm(request.headers) else {
            return try await next(request, context)
        }
        var request = request
        let bytes = try await request.collectBody(limitedBy: context)
        request.body = RequestBody(buffer: bytes)
        guard
            let body = CheckedRequestBody.parsed.flatMap(BuildJobRequest.init(parsed:))
                ?? (try? Self.decoder.decode(BuildJobRequest.self, from: Data(bytes.readableBytesView)))
        else { return try await next(request, context) }
        context.coreContext.endpointPath.value = Self.path
        let (job, recorded) = try await handlers.submitted(body)
        let json = try JobJSON.encode(job, recorded: recorded) ?? Array(JobJSON.encoder.encode(job))
        return Response(
            status: .accepted,
            headers: [.location: GatewayHandlers.location(of: job), .contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }

    /// `Content-Type: application/json` (charset UTF-8 or none), and no `Accept` or one taking
    /// any type or JSON: what the generated route takes without a refusal.
    static func takesPlainForm(_ headers: HTTPFields) -> Bool {
        guard let contentType = headers[.contentType], plainContentTypes.contains(contentType.lowercased()) else {
            return false
        }
        let accepts = headers[values: .accept]
        return accepts.isEmpty || accepts.allSatisfy { plainAccepts.contains($0.lowercased()) }
    }

    private static let plainContentTypes: Set<String> = [
        "application/json", "application/json; charset=utf-8", "application/json;charset=utf-8",
    ]
    private static let plainAccepts: Set<String> = ["*/*", "application/json", "application/*"]

    /// The generated server's decoder for `Configuration.buildchain`.
    private static let decoder = JSONDecoder.buildchain()
}
