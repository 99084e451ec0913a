import Foundation

/// What Kaniko's executor says about a build, read from its logrus lines. Both of
/// logrus's text layouts are understood, `INFO[0003] message` (what Kaniko's default
/// `--log-format=color` writes, ANSI colours stripped) and `level=info msg="message"`;
/// only such lines count, so a RUN step printing `COPY x` is not taken for a step.
///
/// - cached steps: `Using caching version of cmd: …` (logged once per command the cache
///   replaces, while Kaniko plans the stage); executors that do not log it are counted
///   by `Found cached layer, extracting to filesystem` (once per cached command run).
/// - steps: `Building stage '…'` (the stage's FROM) plus each command Kaniko logs before
///   running it: the command text itself (`RUN …`, `COPY …`, `ENV …`: a Dockerfile keyword).
/// - pulled images: `Retrieving image manifest <name>`.
/// - the error: the last `error building image: …` line (what the executor prints when a build
///   fails), else cobra's `Error: …` line before any stage (a flag or the context refused), else
///   the last error- or fatal-level message; classified by `classify(errorLine:)`.
/// - noise: the usage text cobra prints after its `Error:` line is not kept among the last lines.
public struct KanikoOutput: BuildOutputParser {
    private var usingCache = 0
    private var foundCachedLayer = 0
    private var stages = 0
    private var commands = 0
    public private(set) var pulledImages: [String] = []
    public private(set) var errorLine: String?
    private var buildErrorSeen = false
    private var inUsage = false

    public init() {}

    public var cachedSteps: Int { usingCache > 0 ? usingCache : foundCachedLayer }
    public var totalSteps: Int { stages + commands }

    static let keywords: Set<Substring> = [
        "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "HEALTHCHECK", "LABEL", "MAINTAINER",
        "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
    ]

    public mutating func consume(_ line: String) {
        let plain = Self.stripANSI(line)
        if plain.contains("error building image") {
            errorLine = Self.message(plain)?.text ?? plain
            buildErrorSeen = true
            return
        }
        // Cobra's line comes before any stage is built; a RUN step's own `Error:` output is not it.
        if plain.hasPrefix("Error: "), !buildErrorSeen, stages == 0 {
            errorLine = String(plain.dropFirst("Error: ".count))
            buildErrorSeen = true
            return
        }
        if buildErrorSeen, plain == "Usage:" { inUsage = true }
        if inUsage { return }
        guard let (level, message) = Self.message(plain) else { return }
        if message.hasPrefix("Using caching version of cmd: ") {
            usingCache += 1
        } else if message.hasPrefix("Found cached layer") {
            foundCachedLayer += 1
        } else if message.hasPrefix("Building stage '") {
            stages += 1
        } else if message.hasPrefix("Retrieving image manifest ") {
            let name = String(message.dropFirst("Retrieving image manifest ".count))
            if !name.isEmpty, !pulledImages.contains(name) { pulledImages.append(name) }
        } else if let word = message.split(separator: " ", maxSplits: 1).first, Self.keywords.contains(word) {
            commands += 1
        } else if ["error", "fatal", "panic", "ERRO", "FATA", "PANI"].contains(level), !buildErrorSeen {
            errorLine = message
        }
    }

    public var failureKind: BuildFailure.Kind { errorLine.map(Self.classify(errorLine:)) ?? .other }

    public func isNoise(_ line: String) -> Bool { inUsage }

    /// The failure kind of Kaniko's error line, by the first rule that matches (case-insensitive):
    ///
    /// 1. `.dockerfileInvalid`: `dockerfile parse error`, `parsing dockerfile`, `unknown instruction`,
    ///    `resolving dockerfile path`, `target stage`, `requires at least one argument`, `requires exactly`.
    /// 2. `.contextInvalid`: `error resolving source context`, `unknown build context prefix`.
    /// 3. `.stepFailed`: `failed to execute command` (a `RUN`), `failed to get files used from
    ///    context`, `copy failed` (a `COPY` source).
    /// 4. `.registryUnreachable`: `BuildFailure.unreachablePatterns` (connection refused, no such
    ///    host, timeouts, TLS, HTTP to an HTTPS client).
    /// 5. `.baseImageNotFound`: `MANIFEST_UNKNOWN`, `NAME_UNKNOWN`, `manifest unknown`,
    ///    `retrieving image`, `retrieving remote image`, `retrieving source image`.
    /// 6. `.stepFailed`: `waiting for process to exit`, `no such file or directory`.
    /// 7. `.other` (cache repository not writable, …).
    public static func classify(errorLine line: String) -> BuildFailure.Kind {
        let text = line.lowercased()
        let invalid = [
            "dockerfile parse error", "parsing dockerfile", "unknown instruction", "resolving dockerfile path",
            "target stage", "requires at least one argument", "requires exactly",
        ]
        if invalid.contains(where: text.contains) { return .dockerfileInvalid }
        if ["error resolving source context", "unknown build context prefix"].contains(where: text.contains) {
            return .contextInvalid
        }
        if ["failed to execute command", "failed to get files used from context", "copy failed"].contains(where: text.contains) {
            return .stepFailed
        }
        if BuildFailure.unreachablePatterns.contains(where: text.contains) { return .registryUnreachable }
        let missingImage = [
            "manifest_unknown", "name_unknown", "manifest unknown", "retrieving image", "retrieving remote image",
            "retrieving source image",
        ]
        if missingImage.contains(where: text.contains) { return .baseImageNotFound }
        if ["waiting for process to exit", "no such file or directory"].contains(where: text.contains) { return .stepFailed }
        return .other
    }

    /// (level, message) of a logrus text line, or nil for anything else.
    static func message(_ line: String) -> (level: String, text: String)? {
        // `INFO[0003] message   ` (logrus pads short messages).
        let head = line.prefix(5)
        if head.count == 5, head.prefix(4).allSatisfy({ $0.isUppercase }), head.last == "[",
            let close = line.firstIndex(of: "]"),
            line[line.index(line.startIndex, offsetBy: 5)..<close].allSatisfy(\.isNumber)
        {
            let text = line[line.index(after: close)...].trimmingWhitespace()
            return (String(head.prefix(4)), text)
        }
        // `time="…" level=info msg="message"`.
        guard let levelRange = line.range(of: "level="), let msgRange = line.range(of: " msg=") else { return nil }
        let level = line[levelRange.upperBound...].prefix { $0 != " " }
        var rest = line[msgRange.upperBound...]
        guard rest.first == "\"" else {
            return (String(level), String(rest.prefix { $0 != " " }))
        }
        rest = rest.dropFirst()
        var text = ""
        var escaped = false
        for char in rest {
            if escaped {
                text.append(char == "n" ? "\n" : char)
                escaped = false
            } else if char == "\\" {
                escaped = true
            } else if char == "\"" {
                break
            } else {
                text.append(char)
            }
        }
        return (String(level), text)
    }

    /// Removes `ESC [ … letter` colour sequences.
    static func stripANSI(_ line: String) -> String {
        guard line.contains("\u{1B}") else { return line }
        var result = ""
        var inEscape = false
        var sawBracket = false
        for char in line {
            if inEscape {
                if !sawBracket && char == "[" {
                    sawBracket = true
                } else if char.isLetter {
                    inEscape = false
                }
                continue
            }
            if char == "\u{1B}" {
                inEscape = true
                sawBracket = false
                continue
            }
            result.append(char)
        }
        return result
    }
}

extension Substring {
    func trimmingWhitespace() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
