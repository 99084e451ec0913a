import Foundation

/// What `buildah bud` (1.28) says about a build, read from its output lines:
///
/// - steps: `STEP n/m: …`, prefixed `[i/k] ` in multi-stage builds. Each stage
///   built counts the `m` of its first header, `STEP 1/m` (FROM included); stages buildah
///   skips print nothing and count nothing.
/// - cached steps: `--> Using cache <id>`, one per step taken from the cache (local
///   `--layers` images, or a layer pulled by `--cache-from`, then announced by
///   `--> Cache pulled from remote …` just before).
/// - pulled images: `Trying to pull <name>...`, the name as buildah resolved it
///   (`docker.io/library/busybox:1.36` even when the mirror served it).
/// - the error: the last line starting with `Error: `, classified by `classify(errorLine:)`.
public struct BuildahOutput: BuildOutputParser {
    private var stepsPerStage: [Int: Int] = [:]
    public private(set) var cachedSteps = 0
    public private(set) var pulledImages: [String] = []
    public private(set) var errorLine: String?

    public init() {}

    public var totalSteps: Int { stepsPerStage.values.reduce(0, +) }

    public mutating func consume(_ line: String) {
        if line.hasPrefix("--> Using cache ") {
            cachedSteps += 1
        } else if line.hasPrefix("Error: ") {
            errorLine = line
        } else if line.hasPrefix("Trying to pull "), line.hasSuffix("...") {
            let name = String(line.dropFirst("Trying to pull ".count).dropLast(3))
            if !pulledImages.contains(name) { pulledImages.append(name) }
        } else if let (stage, number, total) = Self.step(line), number == 1, stepsPerStage[stage] == nil {
            // A stage's step count is fixed by its first header, so a RUN step printing
            // `STEP 9/9: …` later cannot change it.
            stepsPerStage[stage] = total
        }
    }

    public var failureKind: BuildFailure.Kind { errorLine.map(Self.classify(errorLine:)) ?? .other }

    /// `[2/3] STEP 1/4: FROM …` → (2, 1, 4); `STEP 3/5: RUN …` → (1, 3, 5).
    static func step(_ line: String) -> (stage: Int, number: Int, total: Int)? {
        var rest = Substring(line)
        var stage = 1
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]"),
                let slash = rest[..<close].firstIndex(of: "/"),
                let index = Int(rest[rest.index(after: rest.startIndex)..<slash])
            else { return nil }
            stage = index
            rest = rest[rest.index(after: close)...].drop { $0 == " " }
        }
        guard rest.hasPrefix("STEP "), let colon = rest.firstIndex(of: ":") else { return nil }
        let numbers = rest[rest.index(rest.startIndex, offsetBy: 5)..<colon].split(separator: "/")
        guard numbers.count == 2, let number = Int(numbers[0]), let total = Int(numbers[1]) else { return nil }
        return (stage, number, total)
    }

    /// The failure kind of buildah's `Error: …` line, by the first rule that matches
    /// (case-insensitive; the quoted step text of `building at STEP "…"` is not searched, so a
    /// `RUN parse-manifest` cannot look like a parse error):
    ///
    /// 1. `.stepFailed`: `building at STEP "RUN …": exit status N` (`…: while running runtime: exit status N`
    ///    under `--isolation oci`).
    /// 2. `.dockerfileInvalid`: `Unknown instruction`, `no FROM statement`, `no contents in`,
    ///    `requires at least one argument`, `requires exactly`, `was not found in the provided Dockerfile`
    ///    (the `--target`), `repository name must be lowercase`, `invalid reference format`,
    ///    `parse error`, `invalid duration`.
    /// 3. `.registryUnreachable`: `BuildFailure.unreachablePatterns` (connection refused, no such
    ///    host, timeouts, TLS, HTTP to an HTTPS client).
    /// 4. `.baseImageNotFound`: `creating build container:` (the `FROM` pull), `no stage or image found`
    ///    (`COPY --from=<image>`), `manifest unknown`, `name unknown`, `initializing source`.
    /// 5. `.stepFailed`: any other `building at STEP` (a missing `COPY` source…).
    /// 6. `.other`.
    public static func classify(errorLine line: String) -> BuildFailure.Kind {
        let (step, reason) = splitStep(line)
        if let step, step.lowercased().hasPrefix("run"), Self.isExitStatus(reason) {
            return .stepFailed
        }
        let text = reason.lowercased()
        let invalid = [
            "unknown instruction", "no from statement", "no contents in", "requires at least one argument",
            "requires exactly", "was not found in the provided dockerfile", "repository name must be lowercase",
            "invalid reference format", "parse error", "invalid duration",
        ]
        if invalid.contains(where: text.contains) { return .dockerfileInvalid }
        if BuildFailure.unreachablePatterns.contains(where: text.contains) { return .registryUnreachable }
        let missingImage = [
            "creating build container:", "no stage or image found", "manifest unknown", "name unknown",
            "initializing source",
        ]
        if missingImage.contains(where: text.contains) { return .baseImageNotFound }
        if step != nil { return .stepFailed }
        return .other
    }

    /// `exit status 3`, or `while running runtime: exit status 3` (a step under `--isolation oci`).
    static func isExitStatus(_ reason: String) -> Bool {
        let reason = reason.lowercased()
        return reason.hasPrefix("exit status") || reason.hasPrefix("while running runtime: exit status")
    }

    /// `Error: building at STEP "RUN x": exit status 3` → (`RUN x`, `exit status 3`);
    /// other lines → (nil, the line without `Error: `).
    static func splitStep(_ line: String) -> (step: String?, reason: String) {
        let body = line.hasPrefix("Error: ") ? String(line.dropFirst(7)) : line
        let marker = "building at STEP \""
        guard body.hasPrefix(marker) else { return (nil, body) }
        let rest = body.dropFirst(marker.count)
        // The step text may itself hold `": `; the reason is what follows the last `": ` that is
        // followed by a reason buildah writes, else the first one.
        var candidates: [String.Index] = []
        var search = rest.startIndex
        while let range = rest[search...].range(of: "\": ") {
            candidates.append(range.lowerBound)
            search = range.upperBound
        }
        guard let first = candidates.first else { return (String(rest), "") }
        let split =
            candidates.last { index in
                let reason = rest[rest.index(index, offsetBy: 3)...].lowercased()
                return isExitStatus(reason) || reason.hasPrefix("build error")
            } ?? first
        return (String(rest[..<split]), String(rest[rest.index(split, offsetBy: 3)...]))
    }
}
