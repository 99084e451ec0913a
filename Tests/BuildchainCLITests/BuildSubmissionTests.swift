import ArgumentParser
import Foundation
import GatewayAPI
import Testing

@testable import BuildchainCLI

@Suite struct BuildSubmissionTests {
    static let required = [
        "--repo", "https://git.example/app.git", "--ref", "main", "--workload", "w", "--service", "s",
    ]

    func json(_ arguments: [String]) throws -> [String: Any] {
        let submission = try BuildCommand.parse(Self.required + arguments).submission(CLIEnvironment([:]))
        let data = try JSONEncoder().encode(submission)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func leavesOutWhatWasNotGiven() throws {
        let body = try json([])
        #expect(Set(body.keys) == ["workload", "service", "repository", "cache", "mirrors", "fresh"])
        #expect(body["repository"] as? [String: String] == ["url": "https://git.example/app.git", "ref": "main"])
    }

    @Test func sendsEveryOptionUnderItsAPIName() throws {
        let body = try json([
            "--dockerfile", "docker/Dockerfile", "--context", "app", "--target", "prod", "--build-arg", "V=1",
            "--fresh", "--push", "reg/x/y:tag", "--dry-run",
        ])
        #expect(body["dockerfile_path"] as? String == "docker/Dockerfile")
        #expect(body["context_path"] as? String == "app")
        #expect(body["target"] as? String == "prod")
        #expect(body["build_args"] as? [String: String] == ["V": "1"])
        #expect(body["fresh"] as? Bool == true)
        #expect(body["push"] as? [String: String] == ["destination": "reg/x/y:tag"])
        #expect(body["dry_run"] as? Bool == true)
    }


    @Test func jobIDsMustBeUUIDs() {
        #expect(
            JobID(argument: "0B7F5A52-2F0E-4C2D-9A43-3D1C8E0F6A11")?.description
                == "0b7f5a52-2f0e-4c2d-9a43-3d1c8e0f6a11")
        #expect(JobID(argument: "42") == nil)
    }
}
