// Measures DockerfileRewriter in-process: reads every file of a corpus folder into memory and
// rewrites the whole corpus repeatedly for at least the given number of seconds. Every rewrite
// runs its self-check (the rewritten file expanded as BuildKit would and compared with the
// result), so the figures are those of a checked rewrite.
// Usage: rewrite-throughput CORPUS_DIR [SECONDS]
//        rewrite-throughput --show FILE [PROXIES]   (prints the rewrite of one file)
import Dockerfile
import Foundation

let proxySpec = "docker.io=proxy.test/dockerhub-proxy,ghcr.io=proxy.test/ghcr-proxy,quay.io=proxy.test/quay-proxy"
let arguments = CommandLine.arguments

if arguments.count >= 3 && arguments[1] == "--show" {
    let proxies = try ProxyMap(parsing: arguments.count >= 4 ? arguments[3] : proxySpec)
    let text = try String(contentsOfFile: arguments[2], encoding: .utf8)
    do {
        let result = try DockerfileRewriter().rewrite(text, proxies: proxies)
        print(result.unifiedDiff, terminator: "")
        for change in result.changes { print("change", change) }
        for warning in result.warnings { print("warning", warning) }
        for image in result.pulledImages { print("pulls", image) }
    } catch {
        print("error", error)
    }
    exit(0)
}

guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: rewrite-throughput CORPUS_DIR [SECONDS]\n".utf8))
    exit(2)
}
let folder = URL(fileURLWithPath: arguments[1])
let seconds = arguments.count >= 3 ? Double(arguments[2]) ?? 2 : 2
let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
let texts = try names.map { try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8) }
let corpusBytes = texts.reduce(0) { $0 + $1.utf8.count }
let proxies = try ProxyMap(parsing: proxySpec)
let rewriter = DockerfileRewriter()

var rounds = 0
var changes = 0
var refusals = 0
var invalid = 0
let clock = ContinuousClock()
let start = clock.now
var elapsed = Duration.zero
repeat {
    for text in texts {
        do {
            changes += try rewriter.rewrite(text, proxies: proxies).changes.count
        } catch is UnsafeRewrite {
            refusals += 1
        } catch {
            invalid += 1
        }
    }
    rounds += 1
    elapsed = clock.now - start
} while elapsed < .seconds(seconds)

let elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print("corpus_files = \(texts.count)")
print("corpus_bytes = \(corpusBytes)")
print("rewrite_rounds = \(rounds)")
print("rewrite_seconds = \(String(format: "%.3f", elapsedSeconds))")
print("rewrite_changes_per_round = \(changes / rounds)")
print("rewrite_self_check = on")
print("rewrite_refusals_per_round = \(refusals / rounds)")
print("rewrite_invalid_per_round = \(invalid / rounds)")
print("rewrite_mb_per_s = \(String(format: "%.2f", Double(corpusBytes * rounds) / elapsedSeconds / 1e6))")
print("rewrite_dockerfiles_per_s = \(String(format: "%.0f", Double(texts.count * rounds) / elapsedSeconds))")
