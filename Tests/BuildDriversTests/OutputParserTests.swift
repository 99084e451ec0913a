import BuildDrivers
import Testing

struct BuildahOutputTests {
    /// A cached two-stage build as buildah 1.28.2 printed it (abridged).
    static let cachedBuild = """
        [1/2] STEP 1/2: FROM 127.0.0.1:5000/dockerhub-proxy/library/busybox:1.36 AS build
        Trying to pull 127.0.0.1:5000/dockerhub-proxy/library/busybox:1.36...
        Getting image source signatures
        Copying blob sha256:1932f39443b3d366722771a85e196ab6c1ee51ee0820ef4424ab3c2bfd85c82f
        [1/2] STEP 2/2: RUN sleep 2 && echo hello > /out.txt
        --> Cache pulled from remote 127.0.0.1:5000/kaniko-cache/w-s:3931b2ee86c495f09f33e1edfac9e0bfa369ed7bf505213d92f8ee55aafe1140
        --> Using cache 84dd9495a904d3107c80bc578a769f1d39db7d83f8735ec4e4e4afbb2ca3c941
        --> 84dd9495a90
        [2/2] STEP 1/3: FROM 127.0.0.1:5000/dockerhub-proxy/library/busybox:1.36
        [2/2] STEP 2/3: COPY --from=build /out.txt /out.txt
        --> Using cache d028284b2f7a49a304cae81c899d2ed70654198413a51fba7ef8f3e971a2d3f6
        [2/2] STEP 3/3: RUN cat /out.txt
        hello
        STEP 9/9: this is RUN output, not a step header of the build
        [2/2] COMMIT 127.0.0.1:5000/w/s:t
        Successfully tagged 127.0.0.1:5000/w/s:t
        """

    @Test func countsStepsCachedStepsAndPulls() {
        var output = BuildahOutput()
        for line in Self.cachedBuild.split(separator: "\n") { output.consume(String(line)) }
        // Stage 1: 2 steps, stage 2: 3 steps; the RUN's "STEP 9/9" output changes nothing.
        #expect(output.totalSteps == 5)
        #expect(output.cachedSteps == 2)
        #expect(output.pulledImages == ["127.0.0.1:5000/dockerhub-proxy/library/busybox:1.36"])
        #expect(output.errorLine == nil)
        #expect(output.failureKind == .other)
    }

    @Test func singleStageSteps() {
        var output = BuildahOutput()
        for line in ["STEP 1/3: FROM busybox", "STEP 2/3: RUN true", "STEP 3/3: COPY a /a", "COMMIT x"] {
            output.consume(line)
        }
        #expect(output.totalSteps == 3)
    }

    @Test func multiStageStepsAddUp() {
        var output = BuildahOutput()
        for line in [
            "[1/2] STEP 1/2: FROM a AS b", "[1/2] STEP 2/2: RUN x", "[2/2] STEP 1/3: FROM c", "[2/2] STEP 3/3: RUN y",
        ] {
            output.consume(line)
        }
        #expect(output.totalSteps == 5)
    }

    struct Classification: Sendable, CustomTestStringConvertible {
        let line: String
        let kind: BuildFailure.Kind
        var testDescription: String { line }
    }

    /// Error lines buildah 1.28.2 printed for each kind of failure.
    @Test(arguments: [
        Classification(
            line: #"Error: building at STEP "RUN echo failing-output; exit 3": exit status 3"#, kind: .stepFailed),
        Classification(
            line: #"Error: building at STEP "RUN ./parse-manifest --no-contents in": exit status 1"#, kind: .stepFailed),
        Classification(
            line: #"Error: building at STEP "RUN echo about-to-fail && exit 3": while running runtime: exit status 3"#,
            kind: .stepFailed),
        Classification(
            line:
                #"Error: building at STEP "COPY nothere /x": checking on sources under "/ctx": copier: stat: "/nothere": no such file or directory"#,
            kind: .stepFailed),
        Classification(
            line:
                #"Error: building at STEP "FOO ": Build error: Unknown instruction: "FOO" &imagebuilder.Step{Env:[]string{}}"#,
            kind: .dockerfileInvalid),
        Classification(line: "Error: no FROM statement found", kind: .dockerfileInvalid),
        Classification(line: #"Error: no contents in "ctx/Dockerfile""#, kind: .dockerfileInvalid),
        Classification(
            line: #"Error: building at STEP "COPY ": COPY requires at least one argument"#, kind: .dockerfileInvalid),
        Classification(
            line: #"Error: The target "nope" was not found in the provided Dockerfile"#, kind: .dockerfileInvalid),
        Classification(
            line: "Error: creating build container: repository name must be lowercase", kind: .dockerfileInvalid),
        Classification(
            line: #"Error: building at STEP "HEALTHCHECK --interval=abc CMD true": time: invalid duration "abc""#,
            kind: .dockerfileInvalid),
        Classification(
            line:
                "Error: creating build container: initializing source docker://127.0.0.1:5000/nope/missing:1: reading manifest 1 in 127.0.0.1:5000/nope/missing: manifest unknown: manifest unknown",
            kind: .baseImageNotFound),
        Classification(
            line:
                #"Error: creating build container: initializing source docker://127.0.0.1:5001/x:1: pinging container registry 127.0.0.1:5001: Get "https://127.0.0.1:5001/v2/": dial tcp 127.0.0.1:5001: connect: connection refused"#,
            kind: .registryUnreachable),
        Classification(
            line: "Error: COPY --from=127.0.0.1:5000/nope:1: no stage or image found with that name",
            kind: .baseImageNotFound),
        Classification(line: "Error: writing blob: storage quota exceeded", kind: .other),
    ])
    func classifiesErrorLines(_ classification: Classification) {
        #expect(BuildahOutput.classify(errorLine: classification.line) == classification.kind)
    }

    @Test func keepsTheLastErrorLine() {
        var output = BuildahOutput()
        output.consume("subprocess exited with status 3")
        output.consume(#"Error: building at STEP "RUN exit 3": exit status 3"#)
        #expect(output.errorLine == #"Error: building at STEP "RUN exit 3": exit status 3"#)
        #expect(output.failureKind == .stepFailed)
    }
}

struct KanikoOutputTests {
    @Test func readsColouredAndKeyValueLogs() {
        var output = KanikoOutput()
        let lines = [
            "\u{1B}[36mINFO\u{1B}[0m[0000] Retrieving image manifest node:20                ",
            "\u{1B}[36mINFO\u{1B}[0m[0001] Building stage 'node:20' [idx: '0', base-idx: '-1'] ",
            "\u{1B}[36mINFO\u{1B}[0m[0002] Using caching version of cmd: RUN npm ci        ",
            "\u{1B}[36mINFO\u{1B}[0m[0002] No cached layer found for cmd RUN npm run build",
            "\u{1B}[36mINFO\u{1B}[0m[0002] WORKDIR /app",
            "\u{1B}[36mINFO\u{1B}[0m[0002] Cmd: workdir",
            "\u{1B}[36mINFO\u{1B}[0m[0003] RUN npm ci",
            "\u{1B}[36mINFO\u{1B}[0m[0003] Found cached layer, extracting to filesystem",
            #"time="2025-01-01T00:00:04Z" level=info msg="RUN npm run build""#,
            "RUN this is npm's own output",
            #"time="2025-01-01T00:00:05Z" level=info msg="Retrieving image manifest node:20""#,
        ]
        for line in lines { output.consume(line) }
        #expect(output.cachedSteps == 1)
        #expect(output.totalSteps == 4)  // the stage's FROM, WORKDIR, RUN, RUN
        #expect(output.pulledImages == ["node:20"])
        #expect(output.errorLine == nil)
    }

    @Test func countsFoundCachedLayerWhenThePlanIsNotLogged() {
        var output = KanikoOutput()
        output.consume("INFO[0001] Found cached layer, extracting to filesystem")
        output.consume("INFO[0002] Found cached layer, extracting to filesystem")
        #expect(output.cachedSteps == 2)
    }

    struct Classification: Sendable, CustomTestStringConvertible {
        let line: String
        let kind: BuildFailure.Kind
        var testDescription: String { line }
    }

    @Test(arguments: [
        Classification(
            line:
                "error building image: error building stage: failed to execute command: waiting for process to exit: exit status 1",
            kind: .stepFailed),
        Classification(
            line: "error building image: parsing dockerfile: dockerfile parse error line 2: unknown instruction: FOO",
            kind: .dockerfileInvalid),
        Classification(
            line:
                "error building image: error resolving dockerfile path: please provide a valid path to a Dockerfile within the build context with --dockerfile",
            kind: .dockerfileInvalid),
        Classification(
            line:
                "error building image: unable to complete operation after 0 attempts, last error: GET https://r.example.com/v2/x/manifests/1: MANIFEST_UNKNOWN: manifest unknown; unknown tag=1",
            kind: .baseImageNotFound),
        Classification(
            line:
                "error building image: retrieving image \"nope:1\": GET https://index.docker.io/v2/library/nope/manifests/1: UNAUTHORIZED",
            kind: .baseImageNotFound),
        Classification(
            line:
                "error checking push permissions -- make sure you entered the correct tag name: POST https://r.example.com/v2/kaniko-cache/x/blobs/uploads/: UNAUTHORIZED",
            kind: .other),
    ])
    func classifiesErrorLines(_ classification: Classification) {
        #expect(KanikoOutput.classify(errorLine: classification.line) == classification.kind)
    }

    @Test func errorBuildingImageWinsOverEarlierErrors() {
        var output = KanikoOutput()
        output.consume("ERRO[0001] Error while retrieving image from cache: x")
        output.consume(
            "error building image: error building stage: failed to execute command: waiting for process to exit: exit status 2"
        )
        output.consume("ERRO[0002] something afterwards")
        #expect(output.errorLine?.hasPrefix("error building image") == true)
        #expect(output.failureKind == .stepFailed)
    }
}
