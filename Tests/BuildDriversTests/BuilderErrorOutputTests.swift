import Foundation
import Testing

@testable import BuildDrivers

/// Whole outputs the builders really printed (Fixtures/builder-output: buildah 1.28.2 on this
/// machine, Kaniko v1.23.2 built from source by ../shared/labs), each fed line by line through a
/// build log: the error line the failure leads with, its kind, and what stays among the last lines.
@Suite struct BuilderErrorOutputTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let file: String
        /// The builder's own exit status in that run.
        let exitStatus: Int32
        let kind: BuildFailure.Kind
        let errorLine: String
        var testDescription: String { file }
    }

    static let cases = [
        Case(
            file: "kaniko-fail", exitStatus: 3, kind: .stepFailed,
            errorLine:
                "error building image: error building stage: failed to execute command: waiting for process to exit: exit status 3"
        ),
        Case(
            file: "kaniko-missing", exitStatus: 1, kind: .baseImageNotFound,
            errorLine:
                "error building image: unable to complete operation after 0 attempts, last error: GET http://127.0.0.1:5055/v2/nope/missing/manifests/1.0: MANIFEST_UNKNOWN: manifest unknown; map[Tag:1.0]"
        ),
        Case(
            file: "kaniko-unreach", exitStatus: 1, kind: .registryUnreachable,
            errorLine:
                #"error building image: unable to complete operation after 0 attempts, last error: Get "https://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused; Get "http://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused"#
        ),
        Case(
            file: "kaniko-copy", exitStatus: 1, kind: .stepFailed,
            errorLine:
                "error building image: error building stage: failed to get files used from context: failed to get fileinfo for /build/context/nothere: lstat /build/context/nothere: no such file or directory"
        ),
        Case(
            file: "kaniko-bad", exitStatus: 1, kind: .dockerfileInvalid,
            errorLine:
                "error building image: parsing dockerfile: dockerfile parse error on line 2: unknown instruction: FOO (did you mean FROM?)"
        ),
        // What every build of the first kaniko-kubernetes driver met: an http:// presigned URL as `--context`.
        Case(
            file: "kaniko-context", exitStatus: 1, kind: .contextInvalid,
            errorLine:
                "error resolving source context: unknown build context prefix provided, please use one of the following: gs://, dir://, tar://, s3://, git://, https://"
        ),
        Case(
            file: "buildah-fail", exitStatus: 3, kind: .stepFailed,
            errorLine: #"Error: building at STEP "RUN exit 3": exit status 3"#),
        Case(
            file: "buildah-missing", exitStatus: 125, kind: .baseImageNotFound,
            errorLine:
                "Error: creating build container: initializing source docker://127.0.0.1:5000/nope/missing:1.0: reading manifest 1.0 in 127.0.0.1:5000/nope/missing: manifest unknown: manifest unknown"
        ),
        Case(
            file: "buildah-unreach", exitStatus: 125, kind: .registryUnreachable,
            errorLine:
                #"Error: creating build container: initializing source docker://127.0.0.1:5999/library/busybox:1.36: pinging container registry 127.0.0.1:5999: Get "http://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused"#
        ),
        Case(
            file: "buildah-copy", exitStatus: 125, kind: .stepFailed,
            errorLine:
                #"Error: building at STEP "COPY nothere /x": checking on sources under "/build/run/ctx": copier: stat: "/nothere": no such file or directory"#
        ),
    ]

    @Test(arguments: cases) func theFailureLeadsWithTheBuildersErrorLine(_ test: Case) throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/builder-output/\(test.file).txt")
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init)
        let failure: BuildFailure
        if test.file.hasPrefix("kaniko") {
            let log = BuildLog(KanikoOutput(), forward: { _ in })
            lines.forEach(log.record)
            failure = log.failure(exitStatus: test.exitStatus, otherwise: "none", builder: "kaniko")
        } else {
            let log = BuildLog(BuildahOutput(), forward: { _ in })
            lines.forEach(log.record)
            failure = log.failure(exitStatus: test.exitStatus, otherwise: "none", builder: "buildah")
        }
        #expect(failure.message == test.errorLine)
        #expect(failure.kind == test.kind)
        #expect(failure.exitStatus == test.exitStatus)
        // The last lines are the build's, not cobra's usage text.
        #expect(!failure.lastLines.contains { $0.contains("Usage:") || $0.contains("--verbosity") }, "\(failure.lastLines)")
        #expect(!failure.lastLines.isEmpty)
    }
}
