import Foundation
import Testing

@testable import Dockerfile

/// The corpus files with their base references replaced by variables, in the shapes real
/// Dockerfiles use: the whole reference, the registry only, the name only, the tag only, and a
/// variable two stages share (one of them in a longer name, as `bitnami/${NODE}`) that a `RUN`
/// also reads.
enum Variants {
    enum Shape: String, CaseIterable, Sendable {
        case whole, registry, name, tag, shared
    }

    struct Variant {
        var name: String
        var text: String
    }

    /// Every corpus file that has a base to replace, in one shape.
    static func all(_ shape: Shape) throws -> [Variant] {
        try Corpus.files.compactMap { name in
            try make(Corpus.text(name), shape: shape).map { Variant(name: "\(name) [\(shape.rawValue)]", text: $0) }
        }
    }

    /// `text` with its literal stage bases replaced, or `nil` when it has none to replace.
    static func make(_ text: String, shape: Shape) -> String? {
        let source = Array(text.utf8)
        var lexer = DockerfileLexer(source)
        guard let instructions = try? lexer.instructions() else { return nil }
        var stages: Set<String> = ["scratch"]
        var bases: [(range: Range<Int>, reference: String, endLine: Int, startLine: Int)] = []
        for instruction in instructions where instruction.command.name == "from" {
            let args = whitespaceWords(instruction.text, instruction.command.arguments)
            guard let first = args.first else { continue }
            let raw = String(decoding: instruction.text[first], as: UTF8.self)
            let start = instruction.sourceOffset(first.lowerBound)
            let end = instruction.sourceOffset(first.upperBound - 1) + 1
            if !stages.contains(raw.lowercased()), end - start == first.count,
                raw.allSatisfy({ !"$\"'\\`".contains($0) }), (try? ImageReference(parsing: raw)) != nil
            {
                bases.append((start..<end, raw, instruction.endLine, instruction.startLine))
            }
            if args.count == 3 { stages.insert(String(decoding: instruction.text[args[2]], as: UTF8.self).lowercased()) }
        }
        guard let firstFrom = instructions.first(where: { $0.command.name == "from" }), !bases.isEmpty else { return nil }
        var edits: [(at: Range<Int>, text: String)] = []
        var args: [String] = []
        for (index, base) in bases.enumerated() {
            let reference = try! ImageReference(parsing: base.reference)
            let split = splitName(base.reference)
            switch shape {
            case .whole:
                args.append("ARG BASE_\(index)=\(base.reference)")
                edits.append((base.range, "${BASE_\(index)}"))
            case .registry:
                args.append("ARG REGISTRY_\(index)=\(reference.registry)")
                edits.append((base.range, "${REGISTRY_\(index)}/\(reference.repository)\(split.suffix)"))
            case .name:
                args.append("ARG NAME_\(index)=\(split.name)")
                edits.append((base.range, "${NAME_\(index)}\(split.suffix)"))
            case .tag:
                guard let tag = reference.tag else { continue }
                args.append("ARG TAG_\(index)=\(tag)")
                edits.append((base.range, "\(split.name):${TAG_\(index)}" + (reference.digest.map { "@\($0)" } ?? "")))
            case .shared:
                guard index < 2 else { continue }
                let component = reference.repository.split(separator: "/").last.map(String.init) ?? "app"
                let tag = reference.tag.map { ":\($0)" } ?? ""
                let after = base.endLine < lexer.lineStarts.count ? lexer.lineStarts[base.endLine] : source.count
                let newline = after == source.count && source.last != UInt8(ascii: "\n") ? "\n" : ""
                let reader = "ARG SHARED\nRUN echo \"${SHARED}\"\n"
                if index == 0 {
                    args.append("ARG SHARED=\(component)")
                    edits.append((base.range, "${SHARED}\(tag)"))
                    // A file with one base gets a second stage that uses the variable in a longer name.
                    if bases.count == 1 {
                        edits.append((after..<after, newline + "FROM bitnami/${SHARED}\(tag) AS shared-second\n" + reader))
                    }
                } else {
                    edits.append((base.range, "bitnami/${SHARED}\(tag)"))
                    edits.append((after..<after, newline + reader))
                }
            }
        }
        guard !edits.isEmpty else { return nil }
        let insertAt = lexer.lineStarts[firstFrom.startLine - 1]
        edits.append((insertAt..<insertAt, args.map { $0 + "\n" }.joined()))
        var bytes = source
        for edit in edits.sorted(by: { $0.at.lowerBound > $1.at.lowerBound }) {
            bytes.replaceSubrange(edit.at, with: Array(edit.text.utf8))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A reference as written: its name, and its `:tag` / `@digest` suffix.
    static func splitName(_ reference: String) -> (name: String, suffix: String) {
        var name = Substring(reference)
        var suffix = ""
        if let at = name.firstIndex(of: "@") {
            suffix = String(name[at...])
            name = name[..<at]
        }
        if let colon = name.lastIndex(of: ":"), !name[colon...].contains("/") {
            suffix = String(name[colon...]) + suffix
            name = name[..<colon]
        }
        return (String(name), suffix)
    }

    /// The referee's verdicts on every variant's rewrite, computed once (one Python process).
    static let verdicts: Result<[String: String], any Error> = Result {
        let proxies = try ProxyMap(parsing: Corpus.proxies)
        var cases: [Referee.Case] = []
        for shape in Shape.allCases {
            for variant in try all(shape) {
                let result = try DockerfileRewriter().rewrite(variant.text, proxies: proxies)
                cases.append(Referee.Case(name: variant.name, original: variant.text, result: result, proxies: Corpus.proxies))
            }
        }
        return try Referee.verdicts(for: cases)
    }
}

@Suite("Corpus variants with variable references")
struct VariantTests {
    // The rewrite checks itself (it throws `UnsafeRewrite` otherwise); rewriting twice changes nothing.
    @Test(.enabled(if: Corpus.isPresent, "corpus folder ../shared/corpus/dockerfiles/buildkit is absent"),
        arguments: Variants.Shape.allCases)
    func rewriteIsSafeAndIdempotent(_ shape: Variants.Shape) throws {
        let proxies = try ProxyMap(parsing: Corpus.proxies)
        let variants = try Variants.all(shape)
        #expect(variants.count >= 10, "only \(variants.count) corpus files have a base to replace")
        for variant in variants {
            let once: RewriteResult
            do {
                once = try DockerfileRewriter().rewrite(variant.text, proxies: proxies)
            } catch {
                Issue.record("\(variant.name): \(error)")
                continue
            }
            let twice = try DockerfileRewriter().rewrite(once.text, proxies: proxies, buildArgs: once.buildArgs)
            #expect(twice.text == once.text, "\(variant.name)")
            #expect(twice.changes.isEmpty, "\(variant.name): \(twice.changes)")
            for pulled in once.pulledImages {
                let reference = try? ImageReference(parsing: pulled.reference)
                let proxied = reference.map { proxies.proxiedName(for: $0) == nil } ?? true
                #expect(proxied, "\(variant.name): line \(pulled.line) pulls \(pulled.reference) directly")
            }
        }
    }

    // BuildKit's parser sees the same instructions, and the proxied bases (see buildkit_referee.py).
    @Test(.enabled(if: Corpus.isPresent && Referee.shouldRun, "corpus absent, or python3 cannot import dockerfile"),
        arguments: Variants.Shape.allCases)
    func buildKitParserAgrees(_ shape: Variants.Shape) throws {
        try #require(Referee.hasBuildKitParser, "CI is set but python3 cannot import dockerfile: pip install dockerfile")
        let verdicts = try Variants.verdicts.get()
        let mine = verdicts.filter { $0.key.hasSuffix("[\(shape.rawValue)]") }
        #expect(!mine.isEmpty)
        for (name, verdict) in mine.sorted(by: { $0.key < $1.key }) {
            #expect(verdict == "ok", "\(name): \(verdict)")
        }
    }
}
