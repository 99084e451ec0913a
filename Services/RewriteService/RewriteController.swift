import Dockerfile
import Hummingbird
import ServiceKit

/// `POST /v1/rewrites`: a pure, synchronous call (no run record).
struct RewriteController {
    let defaultProxies: ProxyMap
    let rewriter = DockerfileRewriter()

    func register(on router: Router<ServiceRequestContext>) {
        router.post("/v1/rewrites") { request, context in
            let body = try await request.decodeJSON(as: RewriteRequest.self, context: context)
            return try rewrite(body)
        }
    }

    func rewrite(_ body: RewriteRequest) throws -> JSONResponse<RewriteResponse> {
        let proxies: ProxyMap
        if let given = body.proxies {
            do {
                proxies = try ProxyMap(given)
            } catch {
                throw ServiceError.badRequest("proxies: \(error)", code: "INVALID_PROXIES")
            }
        } else {
            proxies = defaultProxies
        }
        do {
            return JSONResponse(RewriteResponse(try rewriter.rewrite(body.dockerfile, proxies: proxies, buildArgs: body.buildArgs ?? [:])))
        } catch {
            throw ServiceError(
                .unprocessableContent, code: "DOCKERFILE_INVALID", detail: error.description,
                extensions: ["line": String(error.line)])
        }
    }
}
