import GatewayAPI
import ServiceKit

/// A `Components.Schemas.BuildRequest` as the contract's `JSONEncoder` writes it (the text a
/// job records and the `request` of the job it answers), member by member: the encoder was a
/// fortieth of a submit's CPU in the gateway. ParsedBuildRequestTests and JobJSONTests compare
/// the two on random requests.
enum BuildRequestJSON {
    static func write(_ request: Components.Schemas.BuildRequest, to out: inout JSONTextWriter) {
        out.open("{")
        if let args = request.buildArgs { out.key("build_args"); out.texts(args.additionalProperties) }
        if let flag = request.cache { out.key("cache"); out.bool(flag) }
        if let path = request.contextPath { out.key("context_path"); out.string(path) }
        if let path = request.dockerfilePath { out.key("dockerfile_path"); out.string(path) }
        if let flag = request.dryRun { out.key("dry_run"); out.bool(flag) }
        if let flag = request.fresh { out.key("fresh"); out.bool(flag) }
        if let flag = request.mirrors { out.key("mirrors"); out.bool(flag) }
        if let push = request.push {
            out.key("push"); out.open("{")
            out.key("destination"); out.string(push.destination)
            out.close("}")
        }
        out.key("repository"); out.open("{")
        out.key("ref"); out.string(request.repository.ref)
        out.key("url"); out.string(request.repository.url)
        out.close("}")
        if let args = request.secretBuildArgs { out.key("secret_build_args"); out.texts(args.additionalProperties) }
        if let files = request.secrets { out.key("secrets"); out.texts(files.additionalProperties) }
        out.key("service"); out.string(request.service)
        if let target = request.target { out.key("target"); out.string(target) }
        out.key("workload"); out.string(request.workload)
        out.close("}")
    }

    static func text(of request: Components.Schemas.BuildRequest) -> String {
        var out = JSONTextWriter(capacity: 256)
        write(request, to: &out)
        return String(decoding: out.bytes, as: UTF8.self)
    }
}
