import Foundation
import HTTPClient
import Postgres
import Testing

/// The gateway's HTTP surface: refusals before anything is recorded, tokens by hash, the
/// job listing, the CLI over it, and the job timeout.
@Suite(
    .serialized,
    .enabled(if: BuildStack.isAvailable, "needs the local stack's servers (deploy/local/up.sh --infra-only; source .local/env)"))
struct GatewayAPITests {
    private func withStack(
        gateways: Int = 1, environment: [String: String] = [:], _ body: (BuildStack) async throws -> Void
    ) async throws {
        try await BuildStack.with(gateways: gateways, environment: environment, body)
    }

    @Test func badRequestsAreRefusedWithTheFieldAndNothingIsRecorded() async throws {
        try await withStack { stack in
            let good: [String: Any] = ["workload": "w", "service": "s", "repository": ["url": "file:///nowhere", "ref": "main"]]
            let cases: [(String, Any, String)] = [
                ("workload", "Bad Name", "workload"),
                ("repository", ["url": "https://user:secret@git.example.com/a.git", "ref": "main"], "repository.url"),
                ("repository", ["url": "file:///x", "ref": "--upload-pack=touch /tmp/pwned"], "repository.ref"),
                ("context_path", "../../etc", "context_path"),
                ("build_args", ["NOT-A-NAME": "1"], "build_args.NOT-A-NAME"),
                ("push", ["destination": "no such reference"], "push.destination"),
            ]
            for (key, value, field) in cases {
                var body = good
                body[key] = value
                let (status, problem) = try await stack.call("POST", "/v1/builds", body: body)
                #expect(status == 400, "\(key)")
                #expect(problem["code"] as? String == "INVALID_BUILD")
                #expect((problem["extensions"] as? [String: Any])?["field"] as? String == field)
                #expect(!"\(problem)".contains("secret"), "credentials are not echoed")
            }
            // A repeated key is checked as the route's decoder reads it (the first): the check
            // before the route is the only one a submitted body gets.
            let repeated = #"{"workload": "Bad Name", "workload": "w", "service": "s", "repository": {"url": "file:///nowhere", "ref": "main"}}"#
            let refused = try await stack.http.send(
                ClientRequest(
                    method: "POST", url: stack.gateway.baseURL + "/v1/builds",
                    headers: ["Authorization": "Bearer \(stack.token)", "Content-Type": "application/json"],
                    body: .bytes(Array(repeated.utf8))))
            #expect(refused.status == 400)
            #expect(String(decoding: refused.body, as: UTF8.self).contains("INVALID_BUILD"))
            let missing = try await stack.call("POST", "/v1/builds", body: ["workload": "w"])
            #expect(missing.status == 400 && missing.json["code"] as? String == "INVALID_JSON")
            let (_, page) = try await stack.call("GET", "/v1/jobs")
            #expect((page["jobs"] as? [Any])?.isEmpty == true, "no job was recorded")
        }
    }

    @Test func onlyATokenWhoseHashIsConfiguredIsAccepted() async throws {
        try await withStack { stack in
            for header in [nil, "Bearer wrong", "Bearer \(stack.token)x"] {
                let headers: HTTPHeaders = header.map { ["Authorization": $0] } ?? [:]
                let response = try await stack.http.send(ClientRequest(url: stack.gateway.baseURL + "/v1/jobs", headers: headers))
                #expect(response.status == 401)
                #expect(response.headers["Content-Type"] == "application/problem+json")
            }
            let allowed = try await stack.call("GET", "/v1/jobs")
            #expect(allowed.status == 200)
            #expect(!stack.gateway.logText.contains(stack.token), "the token is not logged")
        }
    }

    @Test func unknownJobsAndBadQueriesAreClearErrors() async throws {
        try await withStack { stack in
            let checks: [(String, String, Int, String)] = [
                ("GET", "/v1/jobs/\(UUID())", 404, "NOT_FOUND"),
                ("GET", "/v1/jobs/not-a-uuid", 400, "INVALID_ID"),
                ("POST", "/v1/jobs/\(UUID())/cancel", 404, "NOT_FOUND"),
                ("POST", "/v1/jobs/\(UUID())/retry", 404, "NOT_FOUND"),
                ("GET", "/v1/jobs?limit=0", 400, "INVALID_LIMIT"),
                ("GET", "/v1/jobs?limit=abc", 400, "INVALID_LIMIT"),
                ("GET", "/v1/jobs?state=done", 400, "INVALID_STATE"),
                ("GET", "/v1/jobs?cursor=zzz", 400, "INVALID_CURSOR"),
            ]
            for (method, path, status, code) in checks {
                let answer = try await stack.call(method, path)
                #expect(answer.status == status, "\(method) \(path)")
                #expect(answer.json["code"] as? String == code, "\(method) \(path)")
            }
        }
    }

    @Test func theCLIBuildsWaitsAndPrintsTheArtifact() async throws {
        try await withStack { stack in
            let url = try stack.repository(
                "app", files: ["Dockerfile": GatewayEndToEndTests.dockerfile(), "greeting.txt": "cli \(UUID())\n"])
            let destination = "\(stack.registry)/e2e/cli-\(UUID().uuidString.prefix(8).lowercased()):1"
            let (status, output, errors) = try cli(
                stack,
                [
                    "build", "--repo", url, "--ref", "main", "--workload", "cli", "--service", "hello", "--push",
                    destination, "--wait", "--output", "json",
                ])
            #expect(status == 0, "stderr: \(errors)")
            let job = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
            #expect(job["state"] as? String == "succeeded")
            let result = try #require(job["result"] as? [String: Any])
            #expect((result["manifest_digest"] as? String)?.hasPrefix("sha256:") == true)
            #expect(!errors.contains(stack.token))

            // The CI switches: BUILDCHAIN_CACHE=false reaches the build as cache off.
            let (listed, table, _) = try cli(stack, ["jobs"])
            #expect(listed == 0 && table.contains(job["id"] as? String ?? "?"))
            let (failedStatus, _, failedErrors) = try cli(
                stack, ["build", "--repo", url, "--ref", "no-such-ref", "--workload", "cli", "--service", "hello", "--wait"],
                environment: ["BUILDCHAIN_CACHE": "false"])
            #expect(failedStatus == 1)
            #expect(failedErrors.contains("REF_NOT_FOUND"))
            #expect(failedErrors.contains("checkout"), "text mode shows the stages as they go")
            let (_, page) = try await stack.call("GET", "/v1/jobs?limit=1")
            let request = ((page["jobs"] as? [[String: Any]])?.first?["request"] as? [String: Any])
            #expect(request?["cache"] as? Bool == false)
        }
    }

    /// The CLI checks the gateway's spec before sending: a request outside a limit is a usage
    /// error naming the field and the spec's code, and the gateway records nothing.
    @Test func theCLIRefusesWhatTheSpecRefusesWithoutSending() async throws {
        try await withStack { stack in
            let before = try await stack.pool.query("SELECT count(*)::text AS n FROM jobs").first?["n"]
            let (status, _, errors) = try cli(
                stack, ["build", "--repo", "https://git.example.com/a.git", "--ref", "main", "--workload", "Shop", "--service", "api"])
            #expect(status == 2, "stderr: \(errors)")
            #expect(errors.contains("INVALID_BUILD") && errors.contains("workload") && errors.contains("nothing was sent"), "\(errors)")
            let after = try await stack.pool.query("SELECT count(*)::text AS n FROM jobs").first?["n"]
            #expect(after == before, "no job was recorded")
        }
    }

    @Test func aJobRunningPastItsTimeoutFailsWithTIMEOUT() async throws {
        try await withStack(environment: ["JOB_TIMEOUT": "6s"]) { stack in
            let url = try stack.repository(
                "slow", files: ["Dockerfile": GatewayEndToEndTests.dockerfile(run: "sleep 60"), "greeting.txt": "slow \(UUID())\n"])
            let id = try await stack.submit(["workload": "w", "service": "s", "repository": ["url": url, "ref": "main"]])
            let job = try await stack.wait(for: id, timeout: .seconds(40))
            #expect(job["state"] as? String == "failed")
            let error = try #require(job["error"] as? [String: Any])
            #expect(error["code"] as? String == "TIMEOUT" && error["stage"] as? String == "build")
            #expect(BuildStack.stages(job)["build"]?["status"] as? String == "cancelled")
        }
    }

    @Test func aDryRunIsRecordedAndEndedButNeverRun() async throws {
        try await withStack { stack in
            let url = try stack.repository(
                "dry", files: ["Dockerfile": GatewayEndToEndTests.dockerfile(), "greeting.txt": "hello\n"])
            let body: [String: Any] = ["workload": "w", "service": "s", "repository": ["url": url, "ref": "main"]]
            var asked = body
            asked["dry_run"] = true
            let (status, job) = try await stack.call("POST", "/v1/builds", body: asked)
            #expect(status == 202)
            #expect(job["state"] as? String == "cancelled")
            #expect((job["error"] as? [String: Any])?["code"] as? String == "DRY_RUN")
            let id = try #require(job["id"] as? String)
            let real = try await stack.submit(body)
            let ran = try await stack.wait(for: real)
            #expect(ran["state"] as? String == "succeeded", "a real job submitted after it runs")
            let after = try await stack.job(id)
            #expect(after["state"] as? String == "cancelled")
            #expect(BuildStack.stages(after).values.allSatisfy { $0["status"] as? String == "pending" }, "no stage ran")
            let runs = try await stack.pool.query("SELECT kind FROM stage_runs WHERE job_id = $1::uuid", [id])
            #expect(runs.isEmpty, "no stage service was called for the dry run")
        }
    }

    /// The headers openapi/gateway.yaml declares leave as the handlers wrote them (the generated
    /// server would send them URI-encoded): a Location a browser follows, the session cookie, the
    /// page's policy, the events' Cache-Control; an `EventSource`'s Last-Event-ID resumes the events.
    @Test func declaredHeadersLeaveAsWrittenAndLastEventIDResumesTheEvents() async throws {
        try await withStack { stack in
            func send(_ method: String, _ path: String, headers: HTTPHeaders, body: [UInt8]? = nil) async throws -> BufferedClientResponse {
                try await stack.http.send(
                    ClientRequest(
                        method: method, url: stack.gateway.baseURL + path, headers: headers, body: body.map { .bytes($0) } ?? .none,
                        timeout: .seconds(30)))
            }
            let bearer: HTTPHeaders = ["Authorization": "Bearer \(stack.token)", "Content-Type": "application/json"]
            let build: [String: Any] = [
                "workload": "w", "service": "s", "repository": ["url": "file:///nowhere", "ref": "main"], "dry_run": true,
            ]
            let submitted = try await send(
                "POST", "/v1/builds", headers: bearer, body: Array(try JSONSerialization.data(withJSONObject: build)))
            let id = try #require((try JSONSerialization.jsonObject(with: Data(submitted.body)) as? [String: Any])?["id"] as? String)
            #expect(submitted.status == 202 && submitted.headers["Location"] == "/v1/jobs/\(id)")

            let login = try await send(
                "POST", "/ui/login", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                body: Array("token=\(stack.token)".utf8))
            #expect(login.status == 303 && login.headers["Location"] == "/ui/")
            let cookie = try #require(login.headers["Set-Cookie"])
            #expect(cookie.hasPrefix("buildchain_token=") && cookie.hasSuffix("; Path=/; HttpOnly; SameSite=Strict"), "\(cookie)")
            let page = try await send("GET", "/ui/jobs/\(id)", headers: ["Cookie": "buildchain_token=\(stack.token)"])
            #expect(page.status == 200 && page.headers["Content-Security-Policy"]?.hasPrefix("default-src 'self'; ") == true)

            let sse: HTTPHeaders = ["Authorization": "Bearer \(stack.token)", "Accept": "text/event-stream"]
            let all = try await send("GET", "/v1/jobs/\(id)/events", headers: sse)
            #expect(all.status == 200 && all.headers["Cache-Control"] == "no-cache")
            let ids = all.text.split(separator: "\n").filter { $0.hasPrefix("id: ") }
            let first = try #require(ids.first?.dropFirst(4))
            let resume: HTTPHeaders = [
                "Authorization": "Bearer \(stack.token)", "Accept": "text/event-stream", "Last-Event-ID": String(first),
            ]
            let resumed = try await send("GET", "/v1/jobs/\(id)/events", headers: resume)
            #expect(resumed.text.split(separator: "\n").filter { $0.hasPrefix("id: ") } == Array(ids.dropFirst()))
        }
    }

    /// Runs the built `buildchain` against the stack's gateway (ProvenanceEndToEndTests runs `verify` with it).
    func cli(
        _ stack: BuildStack, _ arguments: [String], environment: [String: String] = [:]
    ) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = ServiceProcess.binDirectory.appendingPathComponent("buildchain")
        process.arguments = arguments
        process.environment = ["BUILDCHAIN_URL": stack.gateway.baseURL, "BUILDCHAIN_TOKEN": stack.token, "PATH": "/usr/bin:/bin"]
            .merging(environment) { _, new in new }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read both pipes while the process runs, so neither can fill up and stall it.
        let errorData = ErrorCollector(errors.fileHandleForReading)
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: outputData, as: UTF8.self),
            String(decoding: errorData.wait(), as: UTF8.self)
        )
    }
}

/// Reads a pipe to its end on a thread of its own.
private final class ErrorCollector: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}
