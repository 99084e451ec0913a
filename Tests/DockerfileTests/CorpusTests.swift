import Dockerfile
import Foundation
import Testing

/// Where the BuildKit corpus and the referee are, and whether the referee can run.
enum Corpus {
    /// `Tests/DockerfileTests` (this file's folder).
    static let testsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    /// The repository root: two levels above this folder.
    static let repositoryRoot = testsFolder.deletingLastPathComponent().deletingLastPathComponent()
    /// `<repository root>/../shared/corpus/dockerfiles/buildkit`.
    static let folder = repositoryRoot.deletingLastPathComponent()
        .appendingPathComponent("shared/corpus/dockerfiles/buildkit")

    static let proxies = "docker.io=proxy.test/dockerhub-proxy,ghcr.io=proxy.test/ghcr-proxy,quay.io=proxy.test/quay-proxy"

    static let files: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        if names.isEmpty {
            print("DockerfileTests: corpus folder \(folder.path) is absent; the corpus tests are skipped")
        }
        return names.sorted()
    }()

    static let isPresent = !files.isEmpty

    static func text(_ name: String) throws -> String {
        try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
    }

    /// The referee's verdict on every corpus file, computed once (one Python process).
    static let verdicts: Result<[String: String], any Error> = Result {
        try Referee.verdicts(
            for: files.map { name in
                let original = try text(name)
                let result = try DockerfileRewriter().rewrite(original, proxies: try ProxyMap(parsing: proxies))
                return Referee.Case(name: name, original: original, result: result, proxies: proxies)
            })
    }
}

/// `buildkit_referee.py`: checks rewrites with BuildKit's own parser (PyPI `dockerfile`).
enum Referee {
    static let script = Corpus.testsFolder.appendingPathComponent("buildkit_referee.py")

    static let isCI = ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty } ?? false

    /// Whether `python3 -c 'import dockerfile'` works.
    static let hasBuildKitParser: Bool = {
        let result = try? run(["python3", "-c", "import dockerfile"])
        let available = result?.status == 0
        if !available && !isCI {
            print("DockerfileTests: python3 cannot import dockerfile (pip install dockerfile); the referee tests are skipped")
        }
        return available
    }()

    /// The referee runs when its parser is installed, and must run in CI (CI installs it): there
    /// the tests run and fail when it is missing.
    static let shouldRun = hasBuildKitParser || isCI

    struct Case {
        var name: String
        var original: String
        var result: RewriteResult
        var proxies: String
        var buildArgs: [String: String] = [:]
    }

    /// Runs the referee once over all cases: name → "ok" or what does not match.
    static func verdicts(for cases: [Case]) throws -> [String: String] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dockerfile-referee-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var manifest: [[String: String]] = []
        for (index, item) in cases.enumerated() {
            let original = folder.appendingPathComponent("\(index).original")
            let rewritten = folder.appendingPathComponent("\(index).rewritten")
            let report = folder.appendingPathComponent("\(index).json")
            try Data(item.original.utf8).write(to: original)
            try Data(item.result.text.utf8).write(to: rewritten)
            let content: [String: Any] = [
                "proxies": item.proxies,
                "changes": item.result.changes.map {
                    ["line": $0.line, "instruction": $0.instruction, "from": $0.from, "to": $0.to, "form": $0.form.rawValue]
                },
                "pulled": item.result.pulledImages.map {
                    ["line": $0.line, "instruction": $0.instruction, "reference": $0.reference]
                },
                "buildArgs": item.buildArgs,
                "buildArgsAfter": item.result.buildArgs,
            ]
            try JSONSerialization.data(withJSONObject: content).write(to: report)
            manifest.append(["name": item.name, "original": original.path, "rewritten": rewritten.path, "report": report.path])
        }
        let manifestFile = folder.appendingPathComponent("manifest.json")
        try JSONSerialization.data(withJSONObject: manifest).write(to: manifestFile)
        let run = try run(["python3", script.path, "--batch", manifestFile.path])
        guard run.status == 0,
            let verdicts = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: String]
        else {
            throw RefereeFailure(output: run.output)
        }
        return verdicts
    }

    struct RefereeFailure: Error, CustomStringConvertible {
        var output: String
        var description: String { "referee failed: \(output)" }
    }

    /// Runs a command, returning its exit status and its standard output (standard error is
    /// appended when the command fails).
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var text = String(decoding: data, as: UTF8.self)
        if process.terminationStatus != 0 { text += String(decoding: errorData, as: UTF8.self) }
        return (process.terminationStatus, text)
    }
}

@Suite("BuildKit corpus")
struct CorpusTests {
    // Skipped, with the reason printed, when ../shared/corpus/dockerfiles is not next to the repository.
    @Test(.enabled(if: Corpus.isPresent, "corpus folder ../shared/corpus/dockerfiles/buildkit is absent"),
        arguments: Corpus.files)
    func rewriteIsIdempotentAndKeepsOtherLines(_ name: String) throws {
        let original = try Corpus.text(name)
        let proxies = try ProxyMap(parsing: Corpus.proxies)
        let once = try DockerfileRewriter().rewrite(original, proxies: proxies)
        let twice = try DockerfileRewriter().rewrite(once.text, proxies: proxies)
        #expect(twice.text == once.text)
        #expect(twice.changes.isEmpty)
        // Same number of lines, and every line without a change is untouched.
        let before = original.split(separator: "\n", omittingEmptySubsequences: false)
        let after = once.text.split(separator: "\n", omittingEmptySubsequences: false)
        try #require(before.count == after.count)
        let changed = Set(once.changes.map(\.line))
        for (index, pair) in zip(before, after).enumerated() where !changed.contains(index + 1) {
            #expect(pair.0 == pair.1, "line \(index + 1) changed without a listed change")
        }
    }

    // Needs the corpus, and python3 with `dockerfile`; when CI is set it runs regardless and
    // fails if the parser is missing.
    @Test(.enabled(if: Corpus.isPresent && Referee.shouldRun, "corpus absent, or python3 cannot import dockerfile"),
        arguments: Corpus.files)
    func buildKitParserAgrees(_ name: String) throws {
        try #require(Referee.hasBuildKitParser, "CI is set but python3 cannot import dockerfile: pip install dockerfile")
        let verdicts = try Corpus.verdicts.get()
        #expect(verdicts[name] == "ok", "referee: \(verdicts[name] ?? "no verdict")")
    }
}

@Suite("BuildKit agrees with the rule table")
struct RuleRefereeTests {
    /// Cases that warn leave a pulled image unproxied on purpose, which the referee would flag.
    static let cases = ruleCases.filter { !$0.input.isEmpty && $0.warnings.isEmpty }

    static let verdicts: Result<[String: String], any Error> = Result {
        try Referee.verdicts(
            for: cases.map { rule in
                let result = try DockerfileRewriter().rewrite(
                    rule.input, proxies: try ProxyMap(parsing: rule.proxies), buildArgs: rule.buildArgs)
                return Referee.Case(
                    name: rule.name, original: rule.input, result: result, proxies: rule.proxies, buildArgs: rule.buildArgs)
            })
    }

    // Same condition as the corpus referee, without needing the corpus.
    @Test(.enabled(if: Referee.shouldRun, "python3 cannot import dockerfile (pip install dockerfile)"), arguments: cases)
    func buildKitParserAgrees(_ rule: RuleCase) throws {
        try #require(Referee.hasBuildKitParser, "CI is set but python3 cannot import dockerfile: pip install dockerfile")
        let verdicts = try Self.verdicts.get()
        #expect(verdicts[rule.name] == "ok", "referee: \(verdicts[rule.name] ?? "no verdict")")
    }
}
