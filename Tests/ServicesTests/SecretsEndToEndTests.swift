import Foundation
import HTTPClient
import Postgres
import S3
import Testing

/// Declared secrets over the real chain (see BuildStack): a secret build arg and a secret file
/// reach `RUN` intact (read back from the image's layer), and nothing else — no table, service
/// log, response, event stream, dashboard page or /metrics — holds their values, for names
/// the key heuristics know (NPM_TOKEN) and names they do not (DB_PASS, MYSQL_PWD).
@Suite(
    .serialized,
    .enabled(if: BuildStack.isAvailable, "needs the local stack's servers (deploy/local/up.sh --infra-only; source .local/env)"))
struct SecretsEndToEndTests {
    static let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()

    static let dockerfile = """
        FROM busybox:1.36
        ARG NPM_TOKEN
        ARG DB_PASS
        ARG MYSQL_PWD
        ARG PLAIN
        RUN --mount=type=secret,id=npmrc mkdir /out && printf '%s' "$NPM_TOKEN" > /out/npm && printf '%s' "$DB_PASS" > /out/db \\
            && printf '%s' "$MYSQL_PWD" > /out/mysql && cat /run/secrets/npmrc > /out/npmrc && printf '%s' "$PLAIN" > /out/plain \\
            && echo "echoed $NPM_TOKEN $DB_PASS $MYSQL_PWD" && cat /run/secrets/npmrc

        """

    /// Fresh values, each with a random part, so finding one anywhere means it leaked.
    static func secretValues() -> (args: [String: String], files: [String: String]) {
        func random() -> String { UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "") }
        return (
            ["NPM_TOKEN": "npm_\(random())", "DB_PASS": "pw-\(random())", "MYSQL_PWD": "my/\(random())\"q"],
            ["npmrc": "//registry.example/:_authToken=\(random())\nalways-auth=\(random())\n"]
        )
    }

    private func request(_ url: String, _ values: (args: [String: String], files: [String: String])) -> [String: Any] {
        [
            "workload": "sec", "service": "app", "repository": ["url": url, "ref": "main"],
            "build_args": ["PLAIN": "plain-value"], "secret_build_args": values.args, "secrets": values.files,
        ]
    }

    @Test func secretsReachRunIntactAndAreFoundNowhereElse() async throws {
        try await BuildStack.with(environment: ["SECRETS_KEY": Self.key, "SECRETS_KEY_ID": "e2e-1"]) { stack in
            let url = try stack.repository("app", files: ["Dockerfile": Self.dockerfile])
            let first = Self.secretValues()
            let id = try await stack.submit(request(url, first))
            let job = try await stack.wait(for: id)
            try #require(job["state"] as? String == "succeeded", "job: \(job)")

            // Intact in the image: the RUN step wrote what it was given.
            let key = try #require(((job["result"] as? [String: Any])?["image"] as? [String: Any])?["key"] as? String)
            let image = try await unpack(stack, key: key)
            #expect(image.files["out/npm"] == first.args["NPM_TOKEN"])
            #expect(image.files["out/db"] == first.args["DB_PASS"])
            #expect(image.files["out/mysql"] == first.args["MYSQL_PWD"])
            #expect(image.files["out/npmrc"] == first.files["npmrc"])
            #expect(image.files["out/plain"] == "plain-value")
            // …and only in the layer the step wrote: not in the image's config or history.
            for (name, value) in first.args { #expect(!image.config.contains(value), "\(name) in the image config") }

            // The record shows the names with masked values; the builder's echo is masked.
            let request = try #require(job["request"] as? [String: Any])
            #expect(request["secret_build_args"] as? [String: String] == ["NPM_TOKEN": "***", "DB_PASS": "***", "MYSQL_PWD": "***"])
            #expect(request["secrets"] as? [String: String] == ["npmrc": "***"])
            let events = try await stack.raw("/v1/jobs/\(id)/events")
            #expect(events.contains("echoed *** *** ***"), "the builder's output is there, masked")

            // A build with another secret value does not reuse the image; one with the same does.
            var second = first
            second.args["NPM_TOKEN"] = "npm_other_\(UUID().uuidString.prefix(8))"
            let other = try await stack.wait(for: try await stack.submit(self.request(url, second)))
            #expect(other["state"] as? String == "succeeded")
            #expect(other["reused_from"] is NSNull || other["reused_from"] == nil, "another secret value: built again")
            #expect(other["build_key"] as? String != job["build_key"] as? String)
            let same = try await stack.wait(for: try await stack.submit(self.request(url, first)))
            #expect(same["reused_from"] as? String == id, "the same secret values: reused")

            // A job that fails keeps no secrets; a retry must give them again.
            let failing = try stack.repository(
                "failing", files: ["Dockerfile": "FROM busybox:1.36\nARG NPM_TOKEN\nRUN echo \"$NPM_TOKEN\" && exit 3\n"])
            let failedID = try await stack.submit(self.request(failing, first))
            let failed = try await stack.wait(for: failedID)
            #expect(failed["state"] as? String == "failed")
            #expect((failed["error"] as? [String: Any])?["code"] as? String == "BUILD_STEP_FAILED")
            let refused = try await stack.call("POST", "/v1/jobs/\(failedID)/retry")
            #expect(refused.status == 422 && refused.json["code"] as? String == "SECRETS_REQUIRED")
            let wrong = try await stack.call("POST", "/v1/jobs/\(failedID)/retry", body: ["secret_build_args": ["NPM_TOKEN": "x"]])
            #expect(wrong.status == 422 && wrong.json["code"] as? String == "SECRETS_REQUIRED")
            let retried = try await stack.call(
                "POST", "/v1/jobs/\(failedID)/retry", body: ["secret_build_args": first.args, "secrets": first.files])
            #expect(retried.status == 202, "\(retried.json)")
            let again = try await stack.wait(for: failedID)
            #expect(again["attempt"] as? Int == 2)
            #expect((again["error"] as? [String: Any])?["code"] as? String == "BUILD_STEP_FAILED", "the retry had its secrets")

            // Nothing else holds a value: every table, every response, every log.
            let stored = try await stack.pool.query("SELECT count(*)::int AS n FROM job_secrets")
            #expect(try stored[0].decode("n", as: Int.self) == 0, "secrets are deleted when their job ends")
            var texts: [String: String] = ["tables": try await allTables(stack)]
            let ids = [id, failedID, other["id"] as? String ?? "", same["id"] as? String ?? ""]
            for jobID in ids {
                texts["job \(jobID)"] = try await stack.raw("/v1/jobs/\(jobID)")
                texts["events \(jobID)"] = try await stack.raw("/v1/jobs/\(jobID)/events")
                texts["dashboard \(jobID)"] = try await stack.raw("/ui/jobs/\(jobID)", cookie: true)
                for case let stage as [String: Any] in (try await stack.job(jobID))["stages"] as? [Any] ?? [] {
                    guard let run = stage["run_id"] as? String, stage["name"] as? String == "build" else { continue }
                    let base = stack.service("build-service").baseURL + "/v1/builds/\(run)"
                    texts["build run \(run)"] = try await stack.raw(base, absolute: true)
                    texts["build run events \(run)"] = try await stack.raw(base + "/events", absolute: true)
                }
            }
            texts["job list"] = try await stack.raw("/v1/jobs")
            texts["dashboard"] = try await stack.raw("/ui/", cookie: true)
            texts["gateway metrics"] = try await stack.raw("/metrics")
            texts["build-service metrics"] = try await stack.raw(stack.service("build-service").baseURL + "/metrics", absolute: true)
            for gateway in stack.gateways { texts["log \(gateway.name)"] = gateway.logText }
            for name in ["checkout-service", "rewrite-service", "build-service", "artifact-service"] {
                texts["log \(name)"] = stack.service(name).logText
            }
            // The search sees what it should: the plain build arg in the records, the masked echo in the logs.
            #expect(texts["tables"]?.contains("plain-value") == true && texts["tables"]?.contains("echoed *** *** ***") == true)
            #expect(texts["build run events \(BuildStack.stages(job)["build"]?["run_id"] as? String ?? "")"]?.contains("echoed ***") == true)
            for values in [first, second] {
                for needle in Self.needles(Array(values.args.values) + Array(values.files.values)) {
                    for (place, text) in texts where text.contains(needle) {
                        Issue.record("a secret (\(needle.prefix(6))…) is in the \(place)")
                    }
                }
            }
        }
    }

    @Test func aGatewayWithoutAKeyRefusesSecretsAndRecordsNothing() async throws {
        try await BuildStack.with { stack in
            let body: [String: Any] = [
                "workload": "w", "service": "s", "repository": ["url": "file:///nowhere", "ref": "main"],
                "secret_build_args": ["DB_PASS": "pw-never-stored"],
            ]
            let (status, problem) = try await stack.call("POST", "/v1/builds", body: body)
            #expect(status == 422 && problem["code"] as? String == "SECRETS_NOT_CONFIGURED", "\(problem)")
            var files = body
            files["secret_build_args"] = nil
            files["secrets"] = ["npmrc": "pw-never-stored"]
            #expect(try await stack.call("POST", "/v1/builds", body: files).json["code"] as? String == "SECRETS_NOT_CONFIGURED")
            let (_, page) = try await stack.call("GET", "/v1/jobs")
            #expect((page["jobs"] as? [Any])?.isEmpty == true, "no job was recorded")
            #expect(!(try await allTables(stack)).contains("pw-never-stored"))
            #expect(!stack.gateway.logText.contains("pw-never-stored"))
        }
    }

    // MARK: helpers

    /// Each value, its JSON-escaped form, its lines and its random parts (which any quoting of
    /// the value — JSON, a row's text form — leaves as they are): how it could appear in a text.
    static func needles(_ values: [String]) -> Set<String> {
        var needles = Set<String>()
        for value in values {
            needles.insert(value)
            if let data = try? JSONEncoder().encode(value) { needles.insert(String(decoding: data.dropFirst().dropLast(), as: UTF8.self)) }
            for line in value.split(separator: "\n") where line.count >= 4 { needles.insert(String(line)) }
            for part in value.split(whereSeparator: { !$0.isLetter && !$0.isNumber }) where part.count >= 16 {
                needles.insert(String(part))
            }
        }
        return needles
    }

    /// Every row of every table of the stack's database, as text.
    private func allTables(_ stack: BuildStack) async throws -> String {
        let tables = try await stack.pool.query(
            "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = 'public'")
        var text = ""
        for row in tables {
            let name: String = try row.decode("name")
            text += "table \(name)\n"
            for row in try await stack.pool.query("SELECT t::text AS row FROM \"\(name)\" t") {
                text += name + " " + (try row.decode("row", as: String.self)) + "\n"
            }
        }
        #expect(text.contains("table job_events") && text.contains("table job_secrets"), "the search saw the tables")
        return text
    }

    /// The image tarball from the store, unpacked: its config and the files of all its layers.
    private func unpack(_ stack: BuildStack, key: String) async throws -> (config: String, files: [String: String]) {
        let folder = stack.work.appendingPathComponent("image-\(UUID().uuidString.prefix(8))")
        let root = folder.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var bytes = Data()
        for try await chunk in try await stack.bucket().getObject(key: key).body { bytes.append(contentsOf: chunk) }
        let tarball = folder.appendingPathComponent("image.tar")
        try bytes.write(to: tarball)
        try tar(["-xf", tarball.path, "-C", folder.path])
        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("manifest.json"))) as? [[String: Any]])
        let config = try String(contentsOf: folder.appendingPathComponent(try #require(manifest.first?["Config"] as? String)), encoding: .utf8)
        for layer in manifest.first?["Layers"] as? [String] ?? [] {
            try tar(["-xf", folder.appendingPathComponent(layer).path, "-C", root.path])
        }
        var files: [String: String] = [:]
        for name in ["npm", "db", "mysql", "npmrc", "plain"] {
            files["out/\(name)"] = try? String(contentsOf: root.appendingPathComponent("out/\(name)"), encoding: .utf8)
        }
        return (config, files)
    }

    private func tar(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/tar")
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "tar \(arguments)")
    }
}

extension BuildStack {
    /// A response body as text: a gateway path, or an absolute URL; the dashboard with its cookie.
    func raw(_ path: String, absolute: Bool = false, cookie: Bool = false) async throws -> String {
        let headers: HTTPHeaders =
            cookie ? ["Cookie": "buildchain_token=\(token)"] : ["Authorization": "Bearer \(token)"]
        let response = try await http.send(
            ClientRequest(url: (absolute ? "" : gateway.baseURL) + path, headers: headers, timeout: .seconds(30)))
        #expect(response.status == 200, "\(path) answered \(response.status)")
        return response.text
    }
}
