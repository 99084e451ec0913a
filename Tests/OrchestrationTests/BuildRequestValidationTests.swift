import Gateway
import GatewayAPI
import Testing

@Suite struct BuildRequestValidationTests {
    private func request(
        url: String = "https://git.example.com/org/app.git", ref: String = "main", workload: String = "shop",
        context: String? = nil, dockerfile: String? = nil, target: String? = nil, args: [String: String]? = nil,
        push: String? = nil
    ) -> BuildJobRequest {
        BuildJobRequest(
            workload: workload, service: "api", repository: .init(url: url, ref: ref), contextPath: context,
            dockerfilePath: dockerfile, target: target, buildArgs: args.map { .init(additionalProperties: $0) },
            push: push.map(BuildJobRequest.PushPayload.init))
    }

    private func field(_ request: BuildJobRequest) -> String? {
        do {
            try request.validate()
            return nil
        } catch {
            return error.field
        }
    }

    @Test func aWellFormedRequestPasses() {
        #expect(field(request()) == nil)
        #expect(field(request(url: "ssh://git@github.com/org/app.git", ref: "refs/pull/12/head")) == nil)
        #expect(field(request(url: "git@github.com:org/app.git", context: "services/api", dockerfile: "build/Dockerfile")) == nil)
        #expect(field(request(target: "runtime", args: ["NODE_VERSION": "20", "_X1": ""], push: "harbor.example.com/team/app:1.2.3")) == nil)
    }

    @Test func badRepositoriesAndRefsAreRefused() {
        #expect(field(request(url: "https://git.example.com/a b")) == "repository.url")
        #expect(field(request(url: "https://user:token@git.example.com/app.git")) == "repository.url")
        #expect(field(request(url: "https://token@git.example.com/app.git")) == "repository.url")
        #expect(field(request(url: "ssh://git:secret@git.example.com/app.git")) == "repository.url")
        #expect(field(request(ref: "--upload-pack=evil")) == "repository.ref")
        #expect(field(request(ref: "main branch")) == "repository.ref")
        // "-\u{0301}" and "\0\u{0301}" are single Characters that are not "-" or NUL.
        #expect(field(request(ref: "-\u{0301}-upload-pack=evil")) == "repository.ref")
        #expect(field(request(ref: "main\u{0}\u{0301}")) == "repository.ref")
        #expect(field(request(url: "https://user:token@\u{0301}git.example.com/app.git")) == "repository.url")
    }

    @Test func pathsMustStayInsideTheRepository() {
        #expect(field(request(context: "/etc")) == "context_path")
        #expect(field(request(context: "../other")) == "context_path")
        #expect(field(request(dockerfile: "a/../../Dockerfile")) == "dockerfile_path")
        #expect(field(request(dockerfile: "")) == "dockerfile_path")
        #expect(field(request(context: "\u{0600}/../../etc")) == "context_path")
        #expect(field(request(context: "/\u{0301}etc")) == "context_path")
        #expect(field(request(dockerfile: "a/../\u{0301}\u{0600}/../../Dockerfile")) == "dockerfile_path")
    }

    /// Names, lengths, targets and build-arg names are the spec's limits: RequestValidatorTests.
    @Test func destinationsAreChecked() {
        #expect(field(request(push: "not a reference")) == "push.destination")
        #expect(field(request(push: "Harbor.example.com/UPPER/app:1")) == "push.destination")
    }
}
