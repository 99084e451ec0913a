import Foundation
import Gateway
import HTTPClient
import ServiceKit
import Testing

/// `POST /v1/webhooks/github` on a real gateway and PostgreSQL (see BuildStack), with no
/// workers so the jobs it starts stay queued for inspection: signed pushes to a configured
/// repository and ref start the mapped builds once per delivery id; anything else starts nothing.
@Suite(
    .serialized,
    .enabled(if: BuildStack.isAvailable, "needs the local stack's servers (deploy/local/up.sh --infra-only; source .local/env)"))
struct GitHubWebhookTests {
    static let secret = Secret("whsec-\(UUID().uuidString)")
    static let commit = "0123456789abcdef0123456789abcdef01234567"

    static func push(repository: String = "acme/shop", ref: String = "refs/heads/main", after: String = commit) -> [UInt8] {
        // With the null members GitHub's own push payloads carry (a payload is GitHub's document,
        // not one of ours, so its nulls are not refused as they are in our requests).
        let payload: [String: Any] = [
            "ref": ref, "before": String(repeating: "0", count: 40), "after": after, "base_ref": NSNull(),
            "created": false, "deleted": false, "forced": false,
            "repository": [
                "full_name": repository, "clone_url": "https://github.com/\(repository).git", "description": NSNull(),
                "homepage": NSNull(), "mirror_url": NSNull(), "license": NSNull(),
            ],
            "pusher": ["name": "someone", "email": NSNull()],
        ]
        return Array(try! JSONSerialization.data(withJSONObject: payload))
    }

    private func deliver(
        _ stack: BuildStack, event: String, body: [UInt8], delivery: String = UUID().uuidString,
        signature: String? = nil
    ) async throws -> (status: Int, json: [String: Any], contentType: String?) {
        let headers: HTTPHeaders = [
            "Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": signature ?? GitHubSignature.header(for: body, secret: Self.secret),
        ]
        let response = try await stack.http.send(
            ClientRequest(method: "POST", url: stack.gateway.baseURL + "/v1/webhooks/github", headers: headers, body: .bytes(body)))
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return (response.status, json, response.headers["Content-Type"])
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    private func jobCount(_ stack: BuildStack) async throws -> Int {
        ((try await stack.call("GET", "/v1/jobs?limit=500")).json["jobs"] as? [Any])?.count ?? -1
    }

    @Test func aSignedPushStartsTheMappedBuildsOncePerDeliveryAndNothingElseStartsAny() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("webhook-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let triggers = folder.appendingPathComponent("triggers.json")
        let mapping: [[String: Any]] = [[
            "repository": "Acme/Shop", "url": "file:///srv/git/shop.git", "refs": ["refs/heads/main", "refs/tags/v*"],
            "builds": [
                ["workload": "shop", "service": "api", "dockerfile_path": "api/Dockerfile", "push": "127.0.0.1:5000/shop/api:{short}"],
                ["workload": "shop", "service": "web", "context_path": "web"],
            ],
        ]]
        try JSONSerialization.data(withJSONObject: mapping).write(to: triggers)
        let environment = [
            "GITHUB_WEBHOOK_SECRET": Self.secret.value, "GITHUB_WEBHOOK_TRIGGERS_FILE": triggers.path, "GATEWAY_WORKERS": "0",
        ]
        try await BuildStack.with(environment: environment) { stack in
            let ping = try await deliver(stack, event: "ping", body: Array(#"{"zen":"Keep it logically awesome."}"#.utf8))
            #expect(ping.status == 200 && ping.json["ignored"] as? String == "ping")

            let delivery = UUID().uuidString
            let started = ContinuousClock.now
            let push = try await deliver(stack, event: "push", body: Self.push(), delivery: delivery)
            let elapsed = ContinuousClock.now - started
            print("webhook_to_jobs_queued_ms = \(Self.milliseconds(elapsed))")
            try #require(push.status == 202, "push answered \(push.status): \(push.json)")
            let jobs = try #require(push.json["jobs"] as? [String])
            #expect(jobs.count == 2)
            let api = try await stack.job(jobs[0])
            #expect(api["state"] as? String == "queued")
            let request = try #require(api["request"] as? [String: Any])
            #expect(request["workload"] as? String == "shop" && request["service"] as? String == "api")
            #expect((request["repository"] as? [String: Any])?["url"] as? String == "file:///srv/git/shop.git")
            #expect((request["repository"] as? [String: Any])?["ref"] as? String == Self.commit)
            #expect((request["push"] as? [String: Any])?["destination"] as? String == "127.0.0.1:5000/shop/api:\(Self.commit.prefix(12))")
            #expect(request["dockerfile_path"] as? String == "api/Dockerfile")
            #expect(((try await stack.job(jobs[1]))["request"] as? [String: Any])?["context_path"] as? String == "web")
            // The dashboard names the delivery that started the job.
            let page = try await stack.http.send(
                ClientRequest(url: stack.gateway.baseURL + "/ui/jobs/\(jobs[0])", headers: ["Authorization": "Bearer \(stack.token)"]))
            #expect(page.status == 200)
            #expect(String(decoding: page.body, as: UTF8.self).contains("delivery <code>\(delivery)</code>"))

            // Redelivered: the same jobs, nothing new.
            let count = try await jobCount(stack)
            let again = try await deliver(stack, event: "push", body: Self.push(), delivery: delivery)
            #expect(again.status == 200 && again.json["duplicate"] as? Bool == true)
            #expect(again.json["jobs"] as? [String] == jobs)

            // Refused or ignored: nothing recorded.
            let badSignature = try await deliver(stack, event: "push", body: Self.push(), signature: "sha256=" + String(repeating: "0", count: 64))
            #expect(badSignature.status == 401 && badSignature.json["code"] as? String == "BAD_SIGNATURE")
            #expect(badSignature.contentType == "application/problem+json")
            let unsigned = try await deliver(stack, event: "push", body: Self.push(), signature: "")
            #expect(unsigned.status == 401)
            let unknown = try await deliver(stack, event: "push", body: Self.push(repository: "acme/other"))
            #expect(unknown.status == 422 && unknown.json["code"] as? String == "UNKNOWN_REPOSITORY")
            let otherRef = try await deliver(stack, event: "push", body: Self.push(ref: "refs/heads/feature"))
            #expect(otherRef.status == 200 && (otherRef.json["jobs"] as? [String])?.isEmpty == true)
            let deleted = try await deliver(stack, event: "push", body: Self.push(after: String(repeating: "0", count: 40)))
            #expect(deleted.status == 200 && (deleted.json["jobs"] as? [String])?.isEmpty == true)
            let oversized = Array(repeating: UInt8(ascii: " "), count: 2 << 20) + Self.push()
            let tooLarge = try await deliver(stack, event: "push", body: oversized)
            #expect(tooLarge.status == 413)
            let garbage = try await deliver(stack, event: "push", body: Array("not json".utf8))
            #expect(garbage.status == 400 && garbage.json["code"] as? String == "INVALID_PAYLOAD")
            // Each otherwise a push that starts builds: only the member named is missing or of another type.
            let repository = #""repository": {"full_name": "acme/shop", "clone_url": "https://github.com/acme/shop.git"}"#
            for partial in [
                #"{"ref": "refs/heads/main", "after": "\#(Self.commit)"}"#,
                #"{"ref": "refs/heads/main", "after": 7, \#(repository)}"#,
                #"{"ref": "refs/heads/main", "after": "\#(Self.commit)", "deleted": "no", \#(repository)}"#,
            ] {
                let refused = try await deliver(stack, event: "push", body: Array(partial.utf8))
                #expect(refused.status == 400 && refused.json["code"] as? String == "INVALID_PAYLOAD", "\(partial)")
            }
            #expect(try await jobCount(stack) == count)

            // A tag matching `refs/tags/v*` builds too.
            let tag = try await deliver(stack, event: "push", body: Self.push(ref: "refs/tags/v1.2.0"))
            #expect(tag.status == 202 && (tag.json["jobs"] as? [String])?.count == 2)
            #expect(!stack.gateway.logText.contains(Self.secret.value), "the webhook secret is not logged")

            // The peer of the delivery's time: the same two builds submitted to POST /v1/builds.
            let submitStart = ContinuousClock.now
            let base: [String: Any] = ["workload": "shop", "repository": ["url": "file:///srv/git/shop.git", "ref": Self.commit]]
            let builds: [[String: Any]] = [["service": "api", "dockerfile_path": "api/Dockerfile"], ["service": "web", "context_path": "web"]]
            for build in builds { _ = try await stack.submit(base.merging(build) { $1 }) }
            let submitted = ContinuousClock.now - submitStart
            print("webhook_to_jobs_queued_ms_peer = the same two builds by POST /v1/builds: \(Self.milliseconds(submitted)) ms")
        }
    }
}
