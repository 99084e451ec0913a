@testable import Dockerfile
import Testing

/// One row of the rule table: a Dockerfile, what it must become, and what must be reported.
struct RuleCase: Sendable, CustomTestStringConvertible {
    var name: String
    var input: String
    var output: String
    var proxies = RuleCase.defaultProxies
    var buildArgs: [String: String] = [:]
    /// Substrings of the expected warnings, one per warning.
    var warnings: [String] = []
    /// Expected `FROM` pulls after rewriting, when the case checks them.
    var pulls: [String]?
    /// Expected build args after rewriting, when the case checks them.
    var buildArgsAfter: [String: String]?

    var testDescription: String { name }

    static let defaultProxies = "docker.io=harbor.example.com/dockerhub-proxy,ghcr.io=harbor.example.com/ghcr-proxy"
}

let hub = "harbor.example.com/dockerhub-proxy"
let ghcr = "harbor.example.com/ghcr-proxy"
private let digest = "sha256:" + String(repeating: "ab", count: 32)

let ruleCases: [RuleCase] = [
    // Where references are.
    RuleCase(name: "plain FROM", input: "FROM node:20\n", output: "FROM \(hub)/library/node:20\n", pulls: ["\(hub)/library/node:20"]),
    RuleCase(
        name: "FROM after --platform",
        input: "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n",
        output: "FROM --platform=$BUILDPLATFORM \(hub)/library/golang:1.22 AS build\n"),
    RuleCase(
        name: "FROM with tabs and several flags",
        input: "FROM\t--platform=linux/amd64 --foo=bar\talpine\n",
        output: "FROM\t--platform=linux/amd64 --foo=bar\t\(hub)/library/alpine\n"),
    RuleCase(
        name: "stage names are not images, case-insensitively",
        input: "FROM node:20 AS Build\nFROM build\nFROM BUILD AS again\nFROM again\n",
        output: "FROM \(hub)/library/node:20 AS Build\nFROM build\nFROM BUILD AS again\nFROM again\n",
        pulls: ["\(hub)/library/node:20"]),
    RuleCase(
        name: "FROM of a stage defined later is an image",
        input: "FROM app\nFROM alpine AS app\n",
        output: "FROM \(hub)/library/app\nFROM \(hub)/library/alpine AS app\n"),
    RuleCase(
        name: "COPY --from stage, index and image",
        input: "FROM alpine AS a\nCOPY --from=a /x /x\nCOPY --from=0 /x /y\nCOPY --from=nginx:1.25 /etc/nginx /etc/nginx\n",
        output:
            "FROM \(hub)/library/alpine AS a\nCOPY --from=a /x /x\nCOPY --from=0 /x /y\nCOPY --from=\(hub)/library/nginx:1.25 /etc/nginx /etc/nginx\n"
    ),
    RuleCase(
        name: "COPY --from a stage defined later",
        input: "FROM alpine AS first\nCOPY --from=Later / /\nFROM scratch AS later\n",
        output: "FROM \(hub)/library/alpine AS first\nCOPY --from=Later / /\nFROM scratch AS later\n"),
    RuleCase(
        name: "ADD --from with other flags",
        input: "FROM scratch\nADD --chmod=755 --from=ghcr.io/org/tool:1 /bin/tool /bin/\n",
        output: "FROM scratch\nADD --chmod=755 --from=\(ghcr)/org/tool:1 /bin/tool /bin/\n"),
    RuleCase(
        name: "quoted --from value",
        input: "FROM scratch\nCOPY --from=\"nginx:1.25\" /a /b\n",
        output: "FROM scratch\nCOPY --from=\"\(hub)/library/nginx:1.25\" /a /b\n"),
    RuleCase(
        name: "RUN --mount from= in cache and bind mounts",
        input:
            "FROM alpine AS tools\nRUN --mount=type=cache,from=busybox,target=/x --mount=from=golang:1.22,target=/go \\\n    --mount=type=bind,from=tools,source=/a,target=/b make\n",
        output:
            "FROM \(hub)/library/alpine AS tools\nRUN --mount=type=cache,from=\(hub)/library/busybox,target=/x --mount=from=\(hub)/library/golang:1.22,target=/go \\\n    --mount=type=bind,from=tools,source=/a,target=/b make\n"
    ),
    RuleCase(
        name: "ONBUILD FROM and COPY",
        input: "FROM alpine\nONBUILD FROM node:20\nonbuild COPY --from=nginx /a /b\nONBUILD RUN echo FROM node\n",
        output:
            "FROM \(hub)/library/alpine\nONBUILD FROM \(hub)/library/node:20\nonbuild COPY --from=\(hub)/library/nginx /a /b\nONBUILD RUN echo FROM node\n",
        pulls: ["\(hub)/library/alpine"]),
    RuleCase(name: "scratch", input: "FROM scratch\nCOPY a /\n", output: "FROM scratch\nCOPY a /\n", pulls: []),

    // Registry detection and Docker Hub normalization.
    RuleCase(name: "localhost with port is a registry", input: "FROM localhost:5000/x\n", output: "FROM localhost:5000/x\n"),
    RuleCase(name: "localhost is a registry", input: "FROM localhost/x\n", output: "FROM localhost/x\n"),
    RuleCase(name: "uppercase first component is a registry", input: "FROM Foo/bar\n", output: "FROM Foo/bar\n"),
    RuleCase(name: "dotted first component is a registry", input: "FROM a.b/c\n", output: "FROM a.b/c\n"),
    RuleCase(
        name: "proxied dotted registry", input: "FROM a.b/c/d:1\n", output: "FROM proxy.test/ab/c/d:1\n",
        proxies: "a.b=proxy.test/ab"),
    RuleCase(
        name: "proxied registry with port", input: "FROM localhost:5000/x\n", output: "FROM proxy.test/local/x\n",
        proxies: "localhost:5000=proxy.test/local"),
    RuleCase(name: "Docker Hub organization", input: "FROM foo/bar\n", output: "FROM \(hub)/foo/bar\n"),
    RuleCase(name: "docker.io", input: "FROM docker.io/node\n", output: "FROM \(hub)/library/node\n"),
    RuleCase(
        name: "index.docker.io", input: "FROM index.docker.io/library/node:20\n", output: "FROM \(hub)/library/node:20\n"),
    RuleCase(name: "registry-1.docker.io", input: "FROM registry-1.docker.io/node\n", output: "FROM \(hub)/library/node\n"),
    RuleCase(
        name: "registry.hub.docker.com", input: "FROM registry.hub.docker.com/org/app\n", output: "FROM \(hub)/org/app\n"),
    RuleCase(
        name: "proxy key given as an alias", input: "FROM node\n", output: "FROM proxy.test/hub/library/node\n",
        proxies: "index.docker.io=proxy.test/hub"),
    RuleCase(
        name: "tag and digest kept", input: "FROM node:20@\(digest)\nFROM alpine@\(digest)\n",
        output: "FROM \(hub)/library/node:20@\(digest)\nFROM \(hub)/library/alpine@\(digest)\n"),
    RuleCase(name: "ghcr.io", input: "FROM ghcr.io/org/app:1.2\n", output: "FROM \(ghcr)/org/app:1.2\n"),
    RuleCase(
        name: "unconfigured registry untouched", input: "FROM quay.io/prometheus/node-exporter\n",
        output: "FROM quay.io/prometheus/node-exporter\n", pulls: ["quay.io/prometheus/node-exporter"]),
    RuleCase(
        name: "already proxied", input: "FROM \(hub)/library/node:20\n", output: "FROM \(hub)/library/node:20\n",
        pulls: ["\(hub)/library/node:20"]),
    RuleCase(
        name: "target host with a proxy of its own is not proxied again",
        input: "FROM node:20\nFROM harbor.example.com/team/app\n",
        output: "FROM \(hub)/library/node:20\nFROM harbor.example.com/mirror/team/app\n",
        proxies: "docker.io=\(hub),harbor.example.com=harbor.example.com/mirror"),
    RuleCase(
        name: "invalid reference warns", input: "FROM Node:20\n", output: "FROM Node:20\n",
        warnings: ["repository name must be lowercase"]),

    // Variables.
    RuleCase(
        name: "ARG default named by ${X}", input: "ARG BASE=node:20\nFROM ${BASE}\n",
        output: "ARG BASE=\(hub)/library/node:20\nFROM ${BASE}\n", pulls: ["\(hub)/library/node:20"]),
    RuleCase(
        name: "ARG default named by $X, used twice", input: "ARG BASE=node:20\nFROM $BASE AS a\nFROM $BASE\n",
        output: "ARG BASE=\(hub)/library/node:20\nFROM $BASE AS a\nFROM $BASE\n"),
    RuleCase(
        name: "quoted ARG default", input: "ARG BASE=\"node:20\" OTHER=1\nFROM ${BASE}\n",
        output: "ARG BASE=\"\(hub)/library/node:20\" OTHER=1\nFROM ${BASE}\n"),
    RuleCase(
        name: "${X:-default} without a value rewrites the inline default", input: "ARG BASE\nFROM ${BASE:-node:20}\n",
        output: "ARG BASE\nFROM ${BASE:-\(hub)/library/node:20}\n", pulls: ["\(hub)/library/node:20"]),
    RuleCase(
        name: "${X:-default} with a value rewrites the ARG", input: "ARG BASE=alpine\nFROM ${BASE:-node:20}\n",
        output: "ARG BASE=\(hub)/library/alpine\nFROM ${BASE:-node:20}\n"),
    RuleCase(
        name: "variable tag", input: "ARG VERSION=20\nFROM node:${VERSION}-alpine\n",
        output: "ARG VERSION=20\nFROM \(hub)/library/node:${VERSION}-alpine\n", pulls: ["\(hub)/library/node:20-alpine"]),
    RuleCase(
        name: "variable tag without default", input: "ARG VERSION\nFROM node:$VERSION\n",
        output: "ARG VERSION\nFROM \(hub)/library/node:$VERSION\n", pulls: ["\(hub)/library/node:$VERSION"]),
    RuleCase(
        name: "name spelled by an ARG default", input: "ARG REPO=node\nARG TAG=20\nFROM ${REPO}:${TAG}\n",
        output: "ARG REPO=\(hub)/library/node\nARG TAG=20\nFROM ${REPO}:${TAG}\n"),
    RuleCase(
        name: "Docker Hub name built from variables gets the prefix", input: "ARG ORG=myorg\nFROM $ORG/app:1\n",
        output: "ARG ORG=myorg\nFROM \(hub)/$ORG/app:1\n", pulls: ["\(hub)/myorg/app:1"]),
    RuleCase(
        name: "explicit registry written out before variables", input: "ARG ORG=org\nFROM ghcr.io/${ORG}/app\n",
        output: "ARG ORG=org\nFROM \(ghcr)/${ORG}/app\n"),
    RuleCase(
        name: "registry from a variable: the resolved name is written at the FROM",
        input: "ARG REGISTRY=ghcr.io\nFROM ${REGISTRY}/org/app:1\n",
        output: "ARG REGISTRY=ghcr.io\nFROM \(ghcr)/org/app:1\n", pulls: ["\(ghcr)/org/app:1"]),
    // The issue's two shapes.
    RuleCase(
        name: "an ARG feeding two references of different shape is not edited",
        input: "ARG NODE=node\nFROM ${NODE}:20 AS a\nFROM bitnami/${NODE}:20\n",
        output: "ARG NODE=node\nFROM \(hub)/library/node:20 AS a\nFROM \(hub)/bitnami/${NODE}:20\n",
        pulls: ["\(hub)/library/node:20", "\(hub)/bitnami/node:20"]),
    RuleCase(
        name: "registry, name and tag from variables",
        input: "ARG REGISTRY=docker.io\nARG IMAGE=node\nARG TAG=20\nFROM ${REGISTRY}/${IMAGE}:${TAG}\n",
        output: "ARG REGISTRY=docker.io\nARG IMAGE=node\nARG TAG=20\nFROM \(hub)/library/node:20\n",
        pulls: ["\(hub)/library/node:20"]),
    RuleCase(
        name: "registry from a build arg", input: "ARG REGISTRY=docker.io\nFROM ${REGISTRY}/org/app:1\n",
        output: "ARG REGISTRY=docker.io\nFROM \(ghcr)/org/app:1\n", buildArgs: ["REGISTRY": "ghcr.io"],
        pulls: ["\(ghcr)/org/app:1"], buildArgsAfter: ["REGISTRY": "ghcr.io"]),
    RuleCase(
        name: "an ARG a stage's RUN reads keeps its value",
        input: "ARG BASE=node:20\nFROM ${BASE}\nARG BASE\nRUN echo $BASE\n",
        output: "ARG BASE=node:20\nFROM \(hub)/library/node:20\nARG BASE\nRUN echo $BASE\n", pulls: ["\(hub)/library/node:20"]),
    RuleCase(
        name: "a stage ARG a later RUN sees keeps its value",
        input: "FROM alpine\nARG TOOLS=ghcr.io/org/tools:2\nCOPY --from=${TOOLS} /t /t\nRUN ./build\n",
        output: "FROM \(hub)/library/alpine\nARG TOOLS=ghcr.io/org/tools:2\nCOPY --from=\(ghcr)/org/tools:2 /t /t\nRUN ./build\n"),
    RuleCase(
        name: "an ARG a LABEL reads keeps its value", input: "ARG BASE=node:20\nFROM $BASE\nLABEL base=\"$BASE\"\n",
        output: "ARG BASE=node:20\nFROM \(hub)/library/node:20\nLABEL base=\"$BASE\"\n"),
    RuleCase(
        name: "a build arg read elsewhere is not changed", input: "ARG BASE\nFROM $BASE\nRUN echo ${BASE}\n",
        output: "ARG BASE\nFROM \(hub)/library/python:3.12\nRUN echo ${BASE}\n", buildArgs: ["BASE": "python:3.12"],
        pulls: ["\(hub)/library/python:3.12"], buildArgsAfter: ["BASE": "python:3.12"]),
    RuleCase(
        name: "an ARG read through another ARG's default", input: "ARG A=node\nARG B=${A}:20\nFROM ${B}\n",
        output: "ARG A=\(hub)/library/node\nARG B=${A}:20\nFROM ${B}\n", pulls: ["\(hub)/library/node:20"]),
    RuleCase(
        name: "an ARG read through another ARG's default and by a RUN",
        input: "ARG A=node\nARG B=${A}:20\nFROM ${B}\nARG A\nRUN echo $A\n",
        output: "ARG A=node\nARG B=${A}:20\nFROM \(hub)/library/node:20\nARG A\nRUN echo $A\n"),
    RuleCase(
        name: "a stage ENV named by COPY --from keeps its value (the image keeps it)",
        input: "FROM alpine\nENV TOOL=busybox:1\nCOPY --from=$TOOL /a /b\n",
        output: "FROM \(hub)/library/alpine\nENV TOOL=busybox:1\nCOPY --from=\(hub)/library/busybox:1 /a /b\n"),
    RuleCase(
        name: "unresolvable variable warns", input: "FROM $IMAGE\n", output: "FROM $IMAGE\n",
        warnings: ["cannot resolve $IMAGE"], pulls: ["$IMAGE"]),
    RuleCase(
        name: "declared ARG without default warns", input: "ARG IMAGE\nFROM ${IMAGE} AS x\n",
        output: "ARG IMAGE\nFROM ${IMAGE} AS x\n", warnings: ["cannot resolve ${IMAGE}"]),
    RuleCase(
        name: "ARG after the first FROM is not seen by FROM",
        input: "FROM alpine\nARG BASE=node:20\nFROM $BASE\n",
        output: "FROM \(hub)/library/alpine\nARG BASE=node:20\nFROM $BASE\n", warnings: ["cannot resolve $BASE"]),
    RuleCase(
        name: "stage ARG in COPY --from", input: "FROM alpine\nARG TOOLS=ghcr.io/org/tools:2\nCOPY --from=${TOOLS} /t /t\n",
        output: "FROM \(hub)/library/alpine\nARG TOOLS=\(ghcr)/org/tools:2\nCOPY --from=${TOOLS} /t /t\n"),
    RuleCase(
        name: "stage name from a variable", input: "ARG MODE=dev\nFROM alpine AS build-dev\nFROM build-${MODE}\n",
        output: "ARG MODE=dev\nFROM \(hub)/library/alpine AS build-dev\nFROM build-${MODE}\n"),
    RuleCase(
        name: "build arg overriding an image ARG is returned rewritten",
        input: "ARG BASE=node:20\nFROM ${BASE}\n", output: "ARG BASE=\(hub)/library/node:20\nFROM ${BASE}\n",
        buildArgs: ["BASE": "python:3.12", "OTHER": "x"], pulls: ["\(hub)/library/python:3.12"],
        buildArgsAfter: ["BASE": "\(hub)/library/python:3.12", "OTHER": "x"]),
    RuleCase(
        name: "build arg for an ARG without default", input: "ARG IMAGE\nFROM $IMAGE\n", output: "ARG IMAGE\nFROM $IMAGE\n",
        buildArgs: ["IMAGE": "ghcr.io/org/app:1"], pulls: ["\(ghcr)/org/app:1"],
        buildArgsAfter: ["IMAGE": "\(ghcr)/org/app:1"]),
    RuleCase(
        name: "build arg in a tag is resolved", input: "ARG VERSION=18\nFROM node:${VERSION}\n",
        output: "ARG VERSION=18\nFROM \(hub)/library/node:${VERSION}\n", buildArgs: ["VERSION": "20"],
        pulls: ["\(hub)/library/node:20"], buildArgsAfter: ["VERSION": "20"]),
    RuleCase(
        name: "build arg of an undeclared name is ignored", input: "FROM node:${VERSION}\n",
        output: "FROM \(hub)/library/node:${VERSION}\n", buildArgs: ["VERSION": "20"],
        pulls: ["\(hub)/library/node:${VERSION}"]),

    // Bytes that must stay.
    RuleCase(
        name: "CRLF line endings", input: "FROM node:20\r\nRUN echo hi \\\r\n  there\r\nCOPY --from=nginx /a /b\r\n",
        output: "FROM \(hub)/library/node:20\r\nRUN echo hi \\\r\n  there\r\nCOPY --from=\(hub)/library/nginx /a /b\r\n"),
    RuleCase(
        name: "backtick escape directive", input: "# escape=`\n\nFROM node:20 AS a\nRUN dir c:\\\nFROM alpine `\n  AS b\n",
        output: "# escape=`\n\nFROM \(hub)/library/node:20 AS a\nRUN dir c:\\\nFROM \(hub)/library/alpine `\n  AS b\n"),
    RuleCase(
        name: "backslash continuation swallows a FROM line", input: "FROM node:20\nRUN echo \\\nFROM alpine\n",
        output: "FROM \(hub)/library/node:20\nRUN echo \\\nFROM alpine\n"),
    RuleCase(
        name: "syntax directive and comments", input: "# syntax=docker/dockerfile:1\n# FROM node:20\nFROM alpine\n  # FROM ubuntu\n",
        output: "# syntax=docker/dockerfile:1\n# FROM node:20\nFROM \(hub)/library/alpine\n  # FROM ubuntu\n"),
    RuleCase(
        name: "continuation with comment and blank lines", input: "FROM \\\n# a comment\n\n  node:20 \\\n  AS build\nRUN true\n",
        output: "FROM \\\n# a comment\n\n  \(hub)/library/node:20 \\\n  AS build\nRUN true\n"),
    RuleCase(
        name: "heredocs containing FROM",
        input: "FROM alpine\nRUN <<EOF\nFROM node:20\nEOF\nCOPY <<-EOT /x\n\tFROM ubuntu\n\tEOT\nFROM busybox\n",
        output: "FROM \(hub)/library/alpine\nRUN <<EOF\nFROM node:20\nEOF\nCOPY <<-EOT /x\n\tFROM ubuntu\n\tEOT\nFROM \(hub)/library/busybox\n"),
    RuleCase(
        name: "several heredocs on one line, quoted delimiters",
        input: "FROM alpine\nRUN <<A cat - <<'B' && cat <<\"C\"\nFROM x\nA\nFROM y\nB\nFROM z\nC\nFROM node:20\n",
        output: "FROM \(hub)/library/alpine\nRUN <<A cat - <<'B' && cat <<\"C\"\nFROM x\nA\nFROM y\nB\nFROM z\nC\nFROM \(hub)/library/node:20\n"),
    RuleCase(
        name: "heredoc in RUN with a mount", input: "FROM alpine\nRUN --mount=from=golang:1.22,target=/go <<EOT\nFROM x\nEOT\n",
        output: "FROM \(hub)/library/alpine\nRUN --mount=from=\(hub)/library/golang:1.22,target=/go <<EOT\nFROM x\nEOT\n"),
    RuleCase(
        name: "RUN strings are not instructions", input: "FROM alpine\nRUN echo \"FROM node:20\" && echo 'COPY --from=x'\n",
        output: "FROM \(hub)/library/alpine\nRUN echo \"FROM node:20\" && echo 'COPY --from=x'\n"),
    RuleCase(
        name: "JSON forms", input: "FROM alpine\nCMD [\"echo\", \"FROM node:20\"]\nRUN [\"cat\", \"<<EOF\"]\nFROM node:20\n",
        output: "FROM \(hub)/library/alpine\nCMD [\"echo\", \"FROM node:20\"]\nRUN [\"cat\", \"<<EOF\"]\nFROM \(hub)/library/node:20\n"),
    RuleCase(
        name: "shell test that starts with [", input: "FROM alpine\nRUN [ -f /x ] && echo yes\n",
        output: "FROM \(hub)/library/alpine\nRUN [ -f /x ] && echo yes\n"),
    RuleCase(
        name: "keyword case kept", input: "from node:20 as build\ncopy --from=build /a /b\n",
        output: "from \(hub)/library/node:20 as build\ncopy --from=build /a /b\n"),
    RuleCase(name: "no trailing newline", input: "FROM node:20", output: "FROM \(hub)/library/node:20"),
    RuleCase(name: "empty file", input: "", output: ""),
    RuleCase(
        name: "UTF-8 around references", input: "# café ☕\nFROM node:20 AS ünïcode\nLABEL x=\"é\"\n",
        output: "# café ☕\nFROM \(hub)/library/node:20 AS ünïcode\nLABEL x=\"é\"\n"),
]

@Suite("Rewrite rules")
struct RewriteRuleTests {
    @Test(arguments: ruleCases)
    func rewritesAsTheRulesSay(_ rule: RuleCase) throws {
        let proxies = try ProxyMap(parsing: rule.proxies)
        let result = try DockerfileRewriter().rewrite(rule.input, proxies: proxies, buildArgs: rule.buildArgs)
        #expect(result.text == rule.output)
        #expect(result.warnings.count == rule.warnings.count, "\(result.warnings)")
        for (warning, expected) in zip(result.warnings, rule.warnings) {
            #expect(warning.message.contains(expected), "\(warning)")
        }
        if let pulls = rule.pulls {
            #expect(result.pulledImages.filter { $0.instruction == "FROM" }.map(\.reference) == pulls)
        }
        if let buildArgsAfter = rule.buildArgsAfter {
            #expect(result.buildArgs == buildArgsAfter)
        }
        #expect(result.changes.isEmpty == (rule.input == rule.output))
        #expect(result.unifiedDiff.isEmpty == (rule.input == rule.output))
    }

    @Test(arguments: ruleCases)
    func rewritingTwiceChangesNothingMore(_ rule: RuleCase) throws {
        let proxies = try ProxyMap(parsing: rule.proxies)
        let once = try DockerfileRewriter().rewrite(rule.input, proxies: proxies, buildArgs: rule.buildArgs)
        let twice = try DockerfileRewriter().rewrite(once.text, proxies: proxies, buildArgs: once.buildArgs)
        #expect(twice.text == once.text)
        #expect(twice.changes.isEmpty)
        #expect(twice.buildArgChanges.isEmpty)
        #expect(twice.buildArgs == once.buildArgs)
    }

    @Test func reportsEachChangeWithLineKeywordAndReference() throws {
        let text = "ARG BASE=node:20\nFROM ${BASE} AS a\nfrom alpine\nCOPY --from=nginx:1 /a /b\nRUN --mount=from=busybox,target=/x \\\n  true\nONBUILD COPY --from=ghcr.io/o/t /a /b\n"
        let result = try DockerfileRewriter().rewrite(text, proxies: try ProxyMap(parsing: RuleCase.defaultProxies))
        #expect(
            result.changes == [
                Change(line: 1, instruction: "ARG", from: "node:20", to: "\(hub)/library/node:20", form: .argDefault),
                Change(line: 3, instruction: "FROM", from: "alpine", to: "\(hub)/library/alpine"),
                Change(line: 4, instruction: "COPY", from: "nginx:1", to: "\(hub)/library/nginx:1"),
                Change(line: 5, instruction: "RUN", from: "busybox", to: "\(hub)/library/busybox"),
                Change(line: 7, instruction: "ONBUILD", from: "ghcr.io/o/t", to: "\(ghcr)/o/t"),
            ])
        #expect(
            result.pulledImages == [
                PulledImage(line: 2, instruction: "FROM", reference: "\(hub)/library/node:20"),
                PulledImage(line: 3, instruction: "FROM", reference: "\(hub)/library/alpine"),
                PulledImage(line: 4, instruction: "COPY", reference: "\(hub)/library/nginx:1"),
                PulledImage(line: 5, instruction: "RUN", reference: "\(hub)/library/busybox"),
            ])
    }

    @Test func buildArgNamingAnImageIsReportedAsABuildArgChange() throws {
        let result = try DockerfileRewriter().rewrite(
            "ARG BASE=node:20\nFROM $BASE\n", proxies: try ProxyMap(parsing: RuleCase.defaultProxies),
            buildArgs: ["BASE": "python:3.12"])
        #expect(result.buildArgChanges == [BuildArgChange(name: "BASE", from: "python:3.12", to: "\(hub)/library/python:3.12")])
        #expect(
            result.changes == [Change(line: 1, instruction: "ARG", from: "node:20", to: "\(hub)/library/node:20", form: .argDefault)])
        #expect(result.warnings.isEmpty)
    }

    @Test func unifiedDiffOfARewrite() throws {
        let text = "# syntax=docker/dockerfile:1\nARG V=20\n\nFROM node:${V} AS build\nRUN npm ci\nRUN npm run build\n\nFROM nginx:1.25\nCOPY --from=build /app/dist /usr/share/nginx/html\n"
        let result = try DockerfileRewriter().rewrite(text, proxies: try ProxyMap(parsing: RuleCase.defaultProxies))
        #expect(
            result.unifiedDiff == """
                --- a/Dockerfile
                +++ b/Dockerfile
                @@ -1,9 +1,9 @@
                 # syntax=docker/dockerfile:1
                 ARG V=20
                 
                -FROM node:${V} AS build
                +FROM \(hub)/library/node:${V} AS build
                 RUN npm ci
                 RUN npm run build
                 
                -FROM nginx:1.25
                +FROM \(hub)/library/nginx:1.25
                 COPY --from=build /app/dist /usr/share/nginx/html

                """)
    }
}

@Suite("Large and hostile inputs")
struct LargeInputTests {
    @Test func longChainsOfARGsDoNotRecurse() throws {
        var text = "ARG A0=node:20\n"
        for i in 1..<5000 { text += "ARG A\(i)=${A\(i - 1)}\n" }
        text += "FROM ${A4999}\n"
        let result = try DockerfileRewriter().rewrite(text, proxies: try ProxyMap(parsing: RuleCase.defaultProxies))
        #expect(
            result.changes == [Change(line: 1, instruction: "ARG", from: "node:20", to: "\(hub)/library/node:20", form: .argDefault)])
        #expect(result.pulledImages.map(\.reference) == ["\(hub)/library/node:20"])
    }

    @Test func deeplyNestedVariablesAreMalformedNotACrash() throws {
        let nested = String(repeating: "${A:-", count: 10000) + "node" + String(repeating: "}", count: 10000)
        let result = try DockerfileRewriter().rewrite(
            "FROM \(nested)\n", proxies: try ProxyMap(parsing: RuleCase.defaultProxies))
        #expect(result.text == "FROM \(nested)\n")
        #expect(result.warnings.count == 1)
    }

    @Test func manyReferencesSharingOneArgStayLinear() throws {
        var text = "ARG BASE=node:20\n"
        for i in 0..<3000 { text += "FROM ${BASE} AS s\(i)\nRUN echo $BASE\n" }
        let clock = ContinuousClock()
        let started = clock.now
        let result = try DockerfileRewriter().rewrite(text, proxies: try ProxyMap(parsing: RuleCase.defaultProxies))
        #expect(clock.now - started < .seconds(20))
        #expect(result.changes.count == 3000)
        #expect(result.changes.allSatisfy { $0.form == .resolved })
    }

    @Test func patternsOverLongValuesAreNotMatched() throws {
        let long = String(repeating: "a", count: 20000)
        let text = "ARG V=\(long)\nFROM node:${V%%*a*a*a*a*a*a*a*a*b}\n"
        let result = try DockerfileRewriter().rewrite(text, proxies: try ProxyMap(parsing: RuleCase.defaultProxies))
        #expect(result.text.hasPrefix("ARG V=\(long)\nFROM \(hub)/library/node:"))
    }

    @Test func longContinuedInstruction() throws {
        let text = "FROM node:20\nRUN true \\\n" + String(repeating: "  && echo FROM x \\\n", count: 50000) + "  && true\nFROM alpine\n"
        let result = try DockerfileRewriter().rewrite(text, proxies: try ProxyMap(parsing: RuleCase.defaultProxies))
        #expect(result.changes.map(\.line) == [1, 50004])
    }
}
