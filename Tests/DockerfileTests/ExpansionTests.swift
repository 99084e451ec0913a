@testable import Dockerfile
import Testing

/// One expansion form: a word, the variables set, and what BuildKit makes of it.
struct ExpansionCase: Sendable, CustomTestStringConvertible {
    var word: String
    var variables: [String: String] = ["V": "docker.io/library/node:20-alpine", "EMPTY": ""]
    var expected: String?

    var testDescription: String { word }
}

private let expansionCases: [ExpansionCase] = [
    ExpansionCase(word: "${V}", expected: "docker.io/library/node:20-alpine"),
    ExpansionCase(word: "$V", expected: "docker.io/library/node:20-alpine"),
    ExpansionCase(word: "x$UNSET-y", expected: "x-y"),
    ExpansionCase(word: "${UNSET:-node}", expected: "node"),
    ExpansionCase(word: "${EMPTY:-node}", expected: "node"),
    ExpansionCase(word: "${EMPTY-node}", expected: ""),
    ExpansionCase(word: "${UNSET-node}", expected: "node"),
    ExpansionCase(word: "${V:-node}", expected: "docker.io/library/node:20-alpine"),
    ExpansionCase(word: "${V:+alpine}", expected: "alpine"),
    ExpansionCase(word: "${EMPTY:+alpine}", expected: ""),
    ExpansionCase(word: "${EMPTY+alpine}", expected: "alpine"),
    ExpansionCase(word: "${UNSET+alpine}", expected: ""),
    ExpansionCase(word: "${V#docker.io/}", expected: "library/node:20-alpine"),
    ExpansionCase(word: "${V#*/}", expected: "library/node:20-alpine"),
    ExpansionCase(word: "${V##*/}", expected: "node:20-alpine"),
    ExpansionCase(word: "${V%-*}", expected: "docker.io/library/node:20"),
    ExpansionCase(word: "${V%%:*}", expected: "docker.io/library/node"),
    ExpansionCase(word: "${V%[0-9]*}", expected: "docker.io/library/node:2"),
    ExpansionCase(word: "${V%%[0-9]*}", expected: "docker.io/library/node:"),
    ExpansionCase(word: "${V#nomatch}", expected: "docker.io/library/node:20-alpine"),
    ExpansionCase(word: "${UNSET:-${V%%:*}}:18", expected: "docker.io/library/node:18"),
    ExpansionCase(word: "\"$V\"", expected: "docker.io/library/node:20-alpine"),
    ExpansionCase(word: "'$V'", expected: "$V"),
    ExpansionCase(word: "\\$V", expected: "$V"),
    ExpansionCase(word: "\"a\\\"b\"", expected: "a\"b"),
    ExpansionCase(word: "${V:?}", expected: "docker.io/library/node:20-alpine"),
    ExpansionCase(word: "${UNSET:?must be set}", expected: nil),
    ExpansionCase(word: "${V", expected: nil),
    ExpansionCase(word: "'open", expected: nil),
]

@Suite("BuildKit word expansion (the self-check's)")
struct ExpansionTests {
    @Test(arguments: expansionCases)
    func expandsAsBuildKit(_ item: ExpansionCase) {
        let outcome = ShellExpansion.expand(Array(item.word.utf8)[...], escape: UInt8(ascii: "\\")) { name in
            item.variables[name].map { .set(Array($0.utf8)) } ?? .unset
        }
        if let expected = item.expected {
            #expect(outcome == .text(Array(expected.utf8)), "\(outcome)")
        } else {
            #expect(outcome == .failed)
        }
    }

    @Test func aVariableOnlyTheBaseImageCouldSetIsUnknown() {
        let outcome = ShellExpansion.expand(Array("tools:${GO_VERSION}".utf8)[...], escape: UInt8(ascii: "\\")) { _ in .unknown }
        #expect(outcome == .unknown)
    }

    /// The rewriter resolves the same forms in a reference and proxies the result.
    @Test(arguments: [
        ("${V}", "\(hub)/library/node:20-alpine"),
        ("${V%-alpine}", "\(hub)/library/node:20"),
        ("${V%%:*}:18", "\(hub)/library/node:18"),
        ("${V##*/}", "\(hub)/library/node:20-alpine"),
        ("${V#docker.io/}", "\(hub)/library/node:20-alpine"),
        ("${UNSET:-alpine}", "\(hub)/library/alpine"),
        ("${UNSET-alpine}", "\(hub)/library/alpine"),
        ("${V:+alpine}", "\(hub)/library/alpine"),
        ("${V+alpine}:3", "\(hub)/library/alpine:3"),
        ("\"${V}\"", "\(hub)/library/node:20-alpine"),
    ])
    func rewriterResolvesEachForm(_ reference: String, _ pulled: String) throws {
        let text = "ARG V=docker.io/library/node:20-alpine\nARG UNSET\nFROM \(reference)\n"
        let result = try DockerfileRewriter().rewrite(text, proxies: try ProxyMap(parsing: RuleCase.defaultProxies))
        #expect(result.pulledImages.map(\.reference) == [pulled], "\(result.text)")
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        let again = try DockerfileRewriter().rewrite(result.text, proxies: try ProxyMap(parsing: RuleCase.defaultProxies))
        #expect(again.changes.isEmpty)
    }

    @Test func platformArgsFollowTheRequestedPlatform() throws {
        let text = "FROM alpine AS build-linux\nFROM build-${TARGETOS}\nFROM ${TARGETARCH}/busybox:${TARGETVARIANT:-v0}\n"
        let proxies = try ProxyMap(parsing: RuleCase.defaultProxies)
        let amd64 = try DockerfileRewriter().rewrite(text, proxies: proxies)
        #expect(amd64.pulledImages.map(\.reference) == ["\(hub)/library/alpine", "\(hub)/amd64/busybox:v0"])
        #expect(amd64.text.contains("FROM \(hub)/${TARGETARCH}/busybox"))
        let arm = try DockerfileRewriter().rewrite(
            text, proxies: proxies, platform: try #require(BuildPlatform(parsing: "linux/arm/v7")))
        #expect(arm.pulledImages.map(\.reference) == ["\(hub)/library/alpine", "\(hub)/arm/busybox:v7"])
        #expect(BuildPlatform(parsing: "linux") == nil)
        #expect(BuildPlatform(parsing: "linux/amd64/v1/x") == nil)
    }
}

@Suite("The rewrite's self-check")
struct RewriteCheckTests {
    let proxies = try! ProxyMap(parsing: RuleCase.defaultProxies)

    /// The output the old rewrite produced for the issue's first shape: the ARG default edited in
    /// place while another stage read it.
    @Test func refusesANestedProxyPath() throws {
        let before = [
            PullSite(line: 2, instruction: "FROM", kind: .image("node:20")),
            PullSite(line: 3, instruction: "FROM", kind: .image("bitnami/node:20")),
        ]
        let after = [
            PullSite(line: 2, instruction: "FROM", kind: .image("\(hub)/library/node:20")),
            PullSite(line: 3, instruction: "FROM", kind: .image("\(hub)/bitnami/\(hub)/library/node:20")),
        ]
        let reported = [
            PulledImage(line: 2, instruction: "FROM", reference: "\(hub)/library/node:20"),
            PulledImage(line: 3, instruction: "FROM", reference: "\(hub)/bitnami/node:20"),
        ]
        let refusal = #expect(throws: UnsafeRewrite.self) {
            try RewriteCheck.verify(before: before, after: after, reported: reported, proxies: proxies)
        }
        #expect(refusal?.line == 3)
        #expect(refusal?.reported == "\(hub)/bitnami/node:20")
        #expect(refusal?.pulled == "\(hub)/bitnami/\(hub)/library/node:20")
    }

    /// The issue's second shape as the old rewrite left it: Docker Hub pulled directly.
    @Test func refusesAReferenceLeftPointingAtItsRegistry() throws {
        let sites = [PullSite(line: 4, instruction: "FROM", kind: .image("docker.io/node:20"))]
        let refusal = #expect(throws: UnsafeRewrite.self) {
            try RewriteCheck.verify(
                before: sites, after: sites,
                reported: [PulledImage(line: 4, instruction: "FROM", reference: "docker.io/node:20")], proxies: proxies)
        }
        #expect(refusal?.reported == "\(hub)/library/node:20")
        #expect(refusal?.pulled == "docker.io/node:20")
    }

    @Test func refusesAResultThatListsAnotherImage() throws {
        let before = [PullSite(line: 1, instruction: "COPY", kind: .image("nginx"))]
        let after = [PullSite(line: 1, instruction: "COPY", kind: .image("\(hub)/library/nginx"))]
        let refusal = #expect(throws: UnsafeRewrite.self) {
            try RewriteCheck.verify(
                before: before, after: after,
                reported: [PulledImage(line: 1, instruction: "COPY", reference: "\(hub)/library/nginx:1")], proxies: proxies)
        }
        #expect(refusal?.pulled == "\(hub)/library/nginx")
        #expect(refusal?.reported == "\(hub)/library/nginx:1")
    }

    @Test func acceptsUnproxiedRegistriesStagesAndUnresolvedWords() throws {
        let sites = [
            PullSite(line: 1, instruction: "FROM", kind: .image("quay.io/org/app:1")),
            PullSite(line: 2, instruction: "FROM", kind: .stage),
            PullSite(line: 3, instruction: "COPY", kind: .unknown("$GO_IMAGE")),
            PullSite(line: 4, instruction: "FROM", kind: .failed("node:")),
        ]
        try RewriteCheck.verify(
            before: sites, after: sites,
            reported: [
                PulledImage(line: 1, instruction: "FROM", reference: "quay.io/org/app:1"),
                PulledImage(line: 3, instruction: "COPY", reference: "$GO_IMAGE"),
                PulledImage(line: 4, instruction: "FROM", reference: "node:$VERSION"),
            ], proxies: proxies)
    }

    @Test func everyCorpusRewritePassesItsOwnCheck() throws {
        // `rewrite` runs the check itself and throws when it fails: the corpus tests rewrite
        // every file; here, the lister sees what the rewriter reports on a mixed file.
        let text =
            "ARG REG=ghcr.io\nFROM ${REG}/org/app:1 AS a\nENV TOOL=busybox\nCOPY --from=${TOOL}:1 /a /b\nRUN --mount=from=$TOOL,target=/t true\n"
        let result = try DockerfileRewriter().rewrite(text, proxies: proxies)
        #expect(
            result.pulledImages.map(\.reference) == [
                "\(ghcr)/org/app:1", "\(hub)/library/busybox:1", "\(hub)/library/busybox",
            ], "\(result.text)")
    }
}
