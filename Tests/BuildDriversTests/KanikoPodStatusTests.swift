import Foundation
import Testing

@testable import BuildDrivers

/// Pod statuses a real Kubernetes v1.32.13 (the lab of ../shared/labs) reported: a container whose
/// image does not exist, and a `fetch-context` init container whose curl got a 404 (exit 22).
@Suite struct KanikoPodStatusTests {
    private func pod(_ name: String) throws -> [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/pod-\(name).json")
        return try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    @Test func anImageThatCannotBePulledIsStuck() throws {
        let status = KanikoPodStatus(try pod("pull-fails"))
        let stuck = try #require(status.stuckContainer)
        #expect(stuck.hasPrefix(#"container "upload" (docker.io/curlimages/curl:0.0.404): ImagePullBackOff"#), "\(stuck)")
        #expect(status.exitStatus(of: "upload") == nil)
    }

    @Test func aFailedContextDownloadHasItsExitStatus() throws {
        let status = KanikoPodStatus(try pod("fetch-fails"))
        #expect(status.exitStatus(of: "fetch-context") == 22)
        #expect(status.exitStatus(of: "kaniko") == nil, "the executor never ran")
        #expect(status.stuckContainer == nil, "PodInitializing is not stuck")
    }
}
