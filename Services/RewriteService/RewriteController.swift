import Dockerfile
import Hummingbird
import ServiceKit

/// `POST /v1/rewrites`: a pure, synchronous call (no run record).
struct RewriteController {
    let defaultProxies: ProxyMap
    let pinner: ReferencePinner
    let rewriter = DockerfileRewriter()

    func register(on router: Router<ServiceRequestContext>) {
        router.post("/v1/rewrites") { request, context in
            let body = try await request.decodeJSON(as: RewriteRequest.self, context: context)
            return try await rewrite(body)
        }
    }

    func rewrite(_ body: RewriteRequest) async throws -> JSONResponse<RewriteResponse> {
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
        var platform = BuildPlatform.linuxAMD64
        if let given = body.platform {
            guard let parsed = BuildPlatform(parsing: given) else {
                throw ServiceError.badRequest("platform: expected os/arch[/variant], e.g. linux/arm64", code: "INVALID_PLATFORM")
            }
            platform = parsed
        }
        let result: RewriteResult
        do {
            result = try rewriter.rewrite(
                body.dockerfile, proxies: proxies, buildArgs: body.buildArgs ?? [:], platform: platform)
        } catch let error as DockerfileError {
            throw ServiceError(
                .unprocessableContent, code: "DOCKERFILE_INVALID", detail: error.description,
                extensions: ["line": String(error.line)])
        } catch let refusal as UnsafeRewrite {
            throw ServiceError(
                .unprocessableContent, code: "REWRITE_UNSAFE", detail: refusal.description,
                extensions: ["line": String(refusal.line), "reported": refusal.reported, "pulled": refusal.pulled])
        }
        guard body.pin == true else { return JSONResponse(RewriteResponse(result)) }
        do {
            return JSONResponse(RewriteResponse(result, pinned: try await pinner.pin(result)))
        } catch let failure as ReferencePinner.Failure {
            throw ServiceError(
                .unprocessableContent, code: "PIN_UNRESOLVABLE", detail: failure.description,
                extensions: ["reference": failure.reference])
        }
    }
}
