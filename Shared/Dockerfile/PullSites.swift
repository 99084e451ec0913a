/// What one image reference (`FROM`, `COPY --from`, `ADD --from`, `RUN --mount=…,from=`) makes
/// the build pull, once BuildKit has expanded it.
struct PullSite: Equatable {
    enum Kind: Equatable {
        /// A valid image reference, as the build resolves it.
        case image(String)
        /// A stage (by name or index) or `scratch`: nothing is pulled.
        case stage
        /// Depends on a variable only the base image could set (its `ENV`); the word as written.
        case unknown(String)
        /// The build fails here (an empty or invalid reference, `${V:?}` unset); the expanded text.
        case failed(String)
    }

    var line: Int
    /// `FROM`, `COPY`, `ADD` or `RUN`.
    var instruction: String
    var kind: Kind
}

/// Lists the `PullSite`s of a lexed Dockerfile for one build the way BuildKit's dockerfile2llb
/// resolves them: meta `ARG`s (build args override their defaults) and the automatic platform
/// args for `FROM`; inside a stage its own `ARG`s and `ENV`s (inherited from a parent stage),
/// `ENV` winning over `ARG`. `ONBUILD` triggers run in a later build and are not listed.
struct PullSiteLister {
    typealias Instruction = DockerfileLexer.Instruction

    let escape: UInt8
    let buildArgs: [String: [UInt8]]
    let automatic: [String: [UInt8]]

    init(escape: UInt8, buildArgs: [String: String], platform: BuildPlatform) {
        self.escape = escape
        self.buildArgs = buildArgs.mapValues { Array($0.utf8) }
        automatic = platform.automaticArgs().mapValues { Array($0.utf8) }
    }

    /// The environment a stage gives to later stages built `FROM` it.
    private struct StageEnvironment {
        var env: [String: [UInt8]] = [:]
        /// Whether names it does not set may come from an image's configuration.
        var imageEnvironment = false
    }

    func sites(_ instructions: [Instruction]) -> [PullSite] {
        var stageNames: Set<String> = []
        for instruction in instructions where instruction.command.name == "from" {
            let args = whitespaceWords(instruction.text, instruction.command.arguments)
            if args.count == 3 { stageNames.insert(lowered(instruction.text[args[2]])) }
        }
        var globals = automatic
        var inStage = false
        var earlierStages: [String: StageEnvironment] = [:]
        var current = StageEnvironment()
        var args: [String: [UInt8]] = [:]
        var currentName: String?
        var sites: [PullSite] = []

        func finishStage() {
            if let currentName { earlierStages[currentName] = current }
        }
        let stageLookup = { (name: String) -> ShellValue in
            if let value = current.env[name] { return .set(value) }
            if let value = args[name] { return .set(value) }
            return current.imageEnvironment ? .unknown : .unset
        }

        for instruction in instructions {
            let command = instruction.command
            let text = instruction.text
            switch command.name {
            case "arg":
                for word in rawWords(text, command.arguments, escape: escape) {
                    let equals = text[word].firstIndex(of: UInt8(ascii: "="))
                    let name = String(decoding: text[word.lowerBound..<(equals ?? word.upperBound)], as: UTF8.self)
                    var value: [UInt8]?
                    if let given = buildArgs[name] {
                        value = given
                    } else if let equals {
                        let outcome = ShellExpansion.expand(
                            text[(equals + 1)..<word.upperBound], escape: escape,
                            lookup: inStage ? stageLookup : { globals[$0].map(ShellValue.set) ?? .unset })
                        if case .text(let expanded) = outcome { value = expanded }
                    } else if inStage {
                        value = globals[name]
                    }
                    if inStage {
                        if let value { args[name] = value } else { args.removeValue(forKey: name) }
                    } else if let value {
                        globals[name] = value
                    }
                }
            case "env" where inStage:
                for (name, value) in envPairs(text, command.arguments, escape: escape) {
                    if case .text(let value) = ShellExpansion.expand(text[value], escape: escape, lookup: stageLookup) {
                        current.env[name] = value
                    } else {
                        current.imageEnvironment = true
                        current.env.removeValue(forKey: name)
                    }
                }
            case "from":
                let words = whitespaceWords(text, command.arguments)
                guard let first = words.first else { continue }
                finishStage()
                let outcome = ShellExpansion.expand(text[first], escape: escape) { globals[$0].map(ShellValue.set) ?? .unset }
                let kind = classify(outcome, raw: text[first]) { earlierStages[$0] != nil }
                sites.append(PullSite(line: instruction.startLine, instruction: "FROM", kind: kind))
                inStage = true
                args = [:]
                if case .text(let base) = outcome, let parent = earlierStages[lowered(base[...])] {
                    current = parent
                } else {
                    current = StageEnvironment(env: [:], imageEnvironment: kind != .stage)
                }
                currentName = words.count == 3 ? lowered(text[words[2]]) : nil
            case "copy", "add":
                for flag in command.flags {
                    guard let value = flag.value(named: "from") else { continue }
                    let outcome = ShellExpansion.expand(value.bytes, escape: escape, lookup: stageLookup)
                    let kind = classify(outcome, raw: value.bytes) { isStageReference($0, stageNames) }
                    sites.append(PullSite(line: instruction.startLine, instruction: command.name.uppercased(), kind: kind))
                }
            case "run":
                for flag in command.flags {
                    guard let value = flag.value(named: "mount") else { continue }
                    for source in mountSources(value.bytes, value.positions) {
                        let raw = source.bytes
                        let outcome = ShellExpansion.expand(raw, escape: escape, lookup: stageLookup)
                        let kind = classify(outcome, raw: raw) { isStageReference($0, stageNames) }
                        sites.append(PullSite(line: instruction.startLine, instruction: "RUN", kind: kind))
                    }
                }
            default:
                break
            }
        }
        return sites
    }

    private func classify(_ outcome: ShellExpansion.Outcome, raw: ArraySlice<UInt8>, isStage: (String) -> Bool)
        -> PullSite.Kind
    {
        switch outcome {
        case .unknown:
            return .unknown(String(decoding: raw, as: UTF8.self))
        case .failed:
            return .failed(String(decoding: raw, as: UTF8.self))
        case .text(let bytes):
            let name = lowered(bytes[...])
            if name == "scratch" || isStage(name) { return .stage }
            let text = String(decoding: bytes, as: UTF8.self)
            guard (try? ImageReference(parsing: text)) != nil else { return .failed(text) }
            return .image(text)
        }
    }

    private func isStageReference(_ name: String, _ stageNames: Set<String>) -> Bool {
        if stageNames.contains(name) { return true }
        return !name.isEmpty && name.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}

func lowered(_ bytes: ArraySlice<UInt8>) -> String {
    String(decoding: bytes.map(lowercased), as: UTF8.self)
}
