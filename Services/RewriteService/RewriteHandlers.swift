import Dockerfile
import HTTPTypes
import RewriteAPI
import ServiceKit

/// rewrite-service's operations of openapi/rewrite.yaml. `POST /v1/rewrites` is a pure,
/// synchronous call (no run record).
struct RewriteHandlers: APIProtocol {
    let defaultProxies: ProxyMap
    let pinner: ReferencePinner
    let rewriter = DockerfileRewriter()

    func rewriteDockerfile(_ input: Operations.RewriteDockerfile.Input) async throws -> Operations.RewriteDockerfile.Output {
        guard case .json(let body) = input.body else { throw ServiceError.badRequest("expected a JSON body") }
        return .ok(.init(body: .json(try await rewrite(body))))
    }

    func rewrite(_ body: Components.Schemas.RewriteRequest) async throws -> RewriteResponse {
        let proxies: ProxyMap
        if let given = body.proxies?.additionalProperties {
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
                body.dockerfile, proxies: proxies, buildArgs: body.buildArgs?.additionalProperties ?? [:], platform: platform)
        } catch let error as DockerfileError {
            throw ServiceError(
                .unprocessableContent, code: "DOCKERFILE_INVALID", detail: error.description,
                extensions: ["line": String(error.line)])
        } catch let refusal as UnsafeRewrite {
            throw ServiceError(
                .unprocessableContent, code: "REWRITE_UNSAFE", detail: refusal.description,
                extensions: ["line": String(refusal.line), "reported": refusal.reported, "pulled": refusal.pulled])
        }
        guard body.pin == true else { return RewriteResponse(result) }
        do {
            return RewriteResponse(result, pinned: try await pinner.pin(result))
        } catch let failure as ReferencePinner.Failure {
            throw ServiceError(
                .unprocessableContent, code: "PIN_UNRESOLVABLE", detail: failure.description,
                extensions: ["reference": failure.reference])
        }
    }
}
