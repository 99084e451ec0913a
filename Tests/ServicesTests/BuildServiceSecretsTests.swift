import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// build-service on its own (for tooling besides the gateway): secrets reach buildah, the
/// failure message quoting the builder's output is masked too, and a driver that cannot take
/// them refuses before anything runs.
extension BuildServiceTests {
    @Test func aFailingStepThatEchoesASecretFailsWithTheValueMasked() async throws {
        try await withServices { client, artifacts in
            let context = try await storeContext(
                ["Dockerfile": "FROM busybox:1.36\nARG DB_PASS\nRUN --mount=type=secret,id=pgpass echo \"pass=$DB_PASS file=$(cat /run/secrets/pgpass)\" && exit 3\n"],
                in: artifacts)
            let pass = "pw-\(UUID().uuidString)"
            let file = "file-\(UUID().uuidString)"
            let run = try await runBuild(
                client,
                #"{"context_key":"\#(context)","workload":"tests","service":"secrets","cache":false,"secret_build_args":{"DB_PASS":"\#(pass)"},"secrets":{"pgpass":"\#(file)"}}"#)
            #expect(run["status"] as? String == "failed")
            let error = try #require(run["error"] as? [String: Any])
            #expect(error["code"] as? String == "BUILD_STEP_FAILED")
            #expect((error["message"] as? String)?.contains("pass=*** file=***") == true, "the values reached RUN: \(error)")
            let id = try #require(run["id"] as? String)
            var events = ""
            try await client.execute(uri: "/v1/builds/\(id)/events", method: .get, headers: auth) { events = String(buffer: $0.body) }
            #expect(events.contains("pass=*** file=***"))
            for text in ["\(run)", events] {
                #expect(!text.contains(pass) && !text.contains(file))
            }
        }
    }

    @Test func kanikoRefusesSecretFilesBeforeAnythingRuns() async throws {
        try await withServices { client, _ in
            let body = #"{"context_key":"c.tgz","workload":"w","service":"x","driver":"kaniko","secrets":{"npmrc":"t"}}"#
            try await client.execute(uri: "/v1/builds", method: .post, headers: auth, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .unprocessableContent)
                let problem = try json(response)
                #expect(problem["code"] as? String == "SECRETS_UNSUPPORTED")
            }
            let bad = #"{"context_key":"c.tgz","workload":"w","service":"x","secrets":{"../x":"t"}}"#
            try await client.execute(uri: "/v1/builds", method: .post, headers: auth, body: ByteBuffer(string: bad)) { response in
                #expect(response.status == .badRequest)
                let problem = try json(response)
                #expect(problem["code"] as? String == "INVALID_BUILD")
            }
        }
    }
}
