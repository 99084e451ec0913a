/// Rewrites every image a Dockerfile pulls to the registry's proxy-cache projects:
/// `FROM node:20` → `FROM harbor.example.com/dockerhub-proxy/library/node:20`.
///
/// Image references are read where BuildKit reads them: `FROM` (after its flags), `COPY --from=`,
/// `ADD --from=`, `RUN --mount=…,from=…`, and the same after `ONBUILD`. Left alone: `scratch`,
/// stage names (case-insensitive; for `FROM` only stages defined earlier, for `--from` any stage),
/// numeric stage indexes, images of registries without a proxy, and references already under
/// one of the proxy targets — even when the target's own host has a proxy configured, which
/// keeps rewriting idempotent.
///
/// Everything else is reproduced byte for byte: comments, blank lines, parser directives, line
/// continuations, heredocs, exec forms, CRLF line endings, keyword case.
///
/// Variables (`ARG`, a stage's `ENV`, BuildKit's automatic platform args for the requested
/// platform), expanded as BuildKit expands them (`${V}`, `${V:-w}`, `${V-w}`, `${V:+w}`, `${V+w}`,
/// `${V#p}`, `${V##p}`, `${V%p}`, `${V%%p}`, quotes). Each reference gets the smallest edit that
/// keeps every other use of its variables as it was (`Change.form`):
/// - a name written in the reference is replaced in place (`node:${VERSION}`, the inline default
///   of `${BASE:-node:20}`); a Docker Hub name built from variables (`$ORG/app`) gets the proxy
///   prefix inserted in front;
/// - a name written in an `ARG` default (`FROM ${BASE}`, `FROM ${REPO}:${TAG}`) is rewritten
///   there only when nothing else reads the variable — no other reference, `RUN`, `ENV`, `LABEL`,
///   or stage that declares it and runs commands; a build arg that names the image
///   (`--build-arg BASE=python:3.12`) is returned proxied in `buildArgs` (`buildArgChanges`)
///   under the same condition;
/// - otherwise, and when the registry comes from a variable (`${REGISTRY}/${IMAGE}:${TAG}`), the
///   resolved proxied name is written in place of the reference.
/// A reference that cannot be resolved (a variable with no value: `FROM $IMAGE` with no default
/// and no build arg) is left as is and reported in `warnings`.
///
/// Every result is checked before it is returned (`RewriteSession.verify`): the rewritten file,
/// expanded for the same build, must pull at each place the proxied name of what the original
/// pulled there, and exactly what `pulledImages` lists; otherwise `rewrite` throws `UnsafeRewrite`.
public struct DockerfileRewriter: Sendable {
    public init() {}

    /// Rewrites `text` for a build with `buildArgs` targeting `platform`, then checks its own
    /// output (`RewriteCheck`). Throws `DockerfileError` when the text is not a Dockerfile
    /// (unterminated heredoc, an exec-form JSON array not closed before the next line, an unknown
    /// instruction…), and `UnsafeRewrite` when the rewritten Dockerfile would pull an image other
    /// than the one the result reports.
    public func rewrite(
        _ text: String, proxies: ProxyMap, buildArgs: [String: String] = [:], platform: BuildPlatform = .linuxAMD64
    ) throws -> RewriteResult {
        var session = RewriteSession(source: Array(text.utf8), proxies: proxies, buildArgs: buildArgs, platform: platform)
        try session.run()
        let result = session.result(original: text)
        try session.verify(result)
        return result
    }
}

/// The state of one `rewrite` call.
struct RewriteSession {
    typealias Instruction = DockerfileLexer.Instruction

    /// Where a reference appears, which decides what it may name besides an image.
    enum Role {
        case stageBase
        case copyFrom
        case onbuild
        /// An `ARG` default or inline default reached through a variable: already checked.
        case variableValue
    }

    struct Edit {
        var range: Range<Int>
        var replacement: [UInt8]
        var form: Change.Form
    }

    /// A word an edit may fall in, to report changes as whole references.
    struct Word {
        var range: Range<Int>
        var line: Int
        var instruction: String
    }

    let source: [UInt8]
    let proxies: ProxyMap
    private var scope: ArgScope
    private var expander = Expander()
    var escape = UInt8(ascii: "\\")
    var lineStarts: [Int] = []
    var instructions: [Instruction] = []
    let platform: BuildPlatform
    /// The build args as the request gave them.
    let requestBuildArgs: [String: String]
    /// The edits, by where they start.
    var edits: [Int: Edit] = [:]
    /// The reference being rewritten, and every one seen so far.
    var site: Int?
    var sites: [Site] = []
    /// Edits that change a variable's value, decided once every reader is known (`settle`).
    var pending: [PendingEdit] = []
    /// Every `ARG` default: its source range and the ARG's name.
    var defaults: [(range: Range<Int>, name: String)] = []
    /// Stage `ARG`s a later `RUN` of the stage would see in its environment.
    var stageArgs: [(name: String, offset: Int)] = []
    var exposedArgs: [(name: String, offset: Int)] = []
    var words: [Word] = []
    var warnings: [Warning] = []
    var pulled: [PulledImage] = []
    var buildArgs: [String: String]
    var buildArgChanges: [BuildArgChange] = []
    var earlierStages: Set<String> = []
    var allStages: Set<String> = []
    var inStage = false
    var quiet = 0
    /// How many variables deep `rewriteVariable` is (`ARG A=$B`, `ARG B=$C`…).
    private var variableDepth = 0

    init(source: [UInt8], proxies: ProxyMap, buildArgs: [String: String], platform: BuildPlatform) {
        self.source = source
        self.proxies = proxies
        self.buildArgs = buildArgs
        self.platform = platform
        requestBuildArgs = buildArgs
        scope = ArgScope(buildArgs: buildArgs, platform: platform)
    }

    mutating func run() throws(DockerfileError) {
        var lexer = DockerfileLexer(source)
        instructions = try lexer.instructions()
        escape = lexer.escape
        lineStarts = lexer.lineStarts
        for instruction in instructions where instruction.command.name == "from" {
            let args = whitespaceWords(instruction.text, instruction.command.arguments)
            if args.count == 3, lowered(instruction.text[args[1]]) == "as" {
                allStages.insert(lowered(instruction.text[args[2]]))
            }
        }
        for (index, instruction) in instructions.enumerated() {
            let command = instruction.command
            guard Command.knownInstructions.contains(command.name) else {
                throw unknownInstruction(instruction, after: index > 0 ? instructions[index - 1] : nil)
            }
            let keyword = String(decoding: instruction.text[command.keyword].map(uppercased), as: UTF8.self)
            try checkForm(command, instruction, keyword: keyword)
            try process(command, instruction, keyword: keyword, onbuild: false)
        }
        settle()
    }

    // MARK: instructions

    private mutating func process(_ command: Command, _ instruction: Instruction, keyword: String, onbuild: Bool)
        throws(DockerfileError)
    {
        switch command.name {
        case "arg" where !onbuild:
            for range in rawWords(instruction.text, command.arguments, escape: escape) {
                let equals = instruction.text[range].firstIndex(of: UInt8(ascii: "="))
                let name = String(decoding: instruction.text[range.lowerBound..<(equals ?? range.upperBound)], as: UTF8.self)
                var defaultWord: ShellWord?
                if let equals {
                    let valueRange = (equals + 1)..<range.upperBound
                    defaultWord = shellWord(instruction, valueRange)
                    register(instruction, valueRange, keyword: keyword)
                    if !valueRange.isEmpty {
                        let start = instruction.sourceOffset(valueRange.lowerBound)
                        defaults.append((start..<(instruction.sourceOffset(valueRange.upperBound - 1) + 1), name))
                    }
                }
                if inStage { stageArgs.append((name, instruction.sourceOffset(range.lowerBound))) }
                let binding = scope.declare(name, defaultWord: defaultWord, isMeta: !inStage)
                expander.remember(binding, in: scope)
            }
        case "env" where !onbuild && inStage:
            for (name, valueRange) in envPairs(instruction.text, command.arguments, escape: escape) {
                let defaultWord = shellWord(instruction, valueRange)
                if !valueRange.isEmpty {
                    register(instruction, valueRange, keyword: keyword)
                    let start = instruction.sourceOffset(valueRange.lowerBound)
                    defaults.append((start..<(instruction.sourceOffset(valueRange.upperBound - 1) + 1), name))
                }
                // An ENV value is kept in the image's configuration: it always counts as read.
                exposedArgs.append((name, instruction.sourceOffset(command.arguments.lowerBound)))
                let binding = scope.declare(name, defaultWord: defaultWord, isMeta: false, isEnv: true)
                expander.remember(binding, in: scope)
            }
        case "from":
            let args = whitespaceWords(instruction.text, command.arguments)
            guard args.count == 1 || (args.count == 3 && lowered(instruction.text[args[1]]) == "as") else {
                throw DockerfileError(
                    line: instruction.startLine, reason: "FROM requires either one or three arguments: image [AS name]")
            }
            let role: Role = onbuild ? .onbuild : .stageBase
            let line = lineOf(instruction.sourceOffset(args[0].lowerBound))
            register(instruction, args[0], keyword: keyword)
            startSite(instruction, args[0], line: line)
            defer { site = nil }
            if let word = shellWord(instruction, args[0]) {
                // A stage's FROM sees the meta args only; an ONBUILD FROM runs in a later build.
                let image = rewriteReference(word, at: scope.point(inStage: onbuild && inStage), role: role, line: line)
                if !onbuild, let image {
                    pulled.append(PulledImage(line: instruction.startLine, instruction: "FROM", reference: image))
                }
            } else {
                warn(line, "\(text(instruction, args[0])): malformed quoting or variable; left as is")
            }
            if !onbuild {
                if args.count == 3 { earlierStages.insert(lowered(instruction.text[args[2]])) }
                inStage = true
                scope.startStage()
                stageArgs.removeAll()
            }
        case "copy", "add":
            let name = command.name == "copy" ? "COPY" : "ADD"
            for flag in command.flags {
                if let value = flag.value(named: "from") {
                    reference(instruction, value.bytes, value.positions, keyword: keyword, pulledAs: onbuild ? nil : name)
                }
            }
        case "run":
            if !onbuild {
                exposedArgs += stageArgs
                stageArgs.removeAll()
            }
            for flag in command.flags {
                guard let value = flag.value(named: "mount") else { continue }
                for source in mountSources(value.bytes, value.positions) {
                    reference(
                        instruction, source.bytes, source.positions, keyword: keyword, pulledAs: onbuild ? nil : "RUN")
                }
            }
        case "onbuild":
            if let trigger = command.trigger(in: instruction.text) {
                guard Command.knownInstructions.contains(trigger.name) else {
                    throw DockerfileError(
                        line: instruction.startLine,
                        reason: "unknown instruction after ONBUILD: \(String(decoding: instruction.text[trigger.keyword], as: UTF8.self))")
                }
                try checkForm(trigger, instruction, keyword: keyword)
                try process(trigger, instruction, keyword: keyword, onbuild: true)
            }
        default:
            break
        }
    }

    /// A `--from=` or `from=` value (decoded; `positions` are logical positions).
    private mutating func reference(
        _ instruction: Instruction, _ bytes: ArraySlice<UInt8>, _ positions: ArraySlice<Int>, keyword: String,
        pulledAs: String?
    ) {
        guard let last = positions.last else { return }
        let sources = positions.map(instruction.sourceOffset)
        let start = sources[0]
        let line = lineOf(start)
        let range = start..<(instruction.sourceOffset(last) + 1)
        words.append(Word(range: range, line: line, instruction: keyword))
        sites.append(Site(range: range, line: line))
        site = sites.count - 1
        defer { site = nil }
        guard let word = ShellWord.parse(bytes, sources: sources[...], escape: escape) else {
            warn(line, "\(String(decoding: bytes, as: UTF8.self)): malformed quoting or variable; left as is")
            return
        }
        let role: Role = pulledAs == nil ? .onbuild : .copyFrom
        if let image = rewriteReference(word, at: scope.point(inStage: inStage), role: role, line: line), let pulledAs {
            pulled.append(PulledImage(line: instruction.startLine, instruction: pulledAs, reference: image))
        }
    }

    private func checkForm(_ command: Command, _ instruction: Instruction, keyword: String) throws(DockerfileError) {
        switch command.form {
        case .nonStringJSON:
            throw DockerfileError(
                line: instruction.startLine, reason: "when using JSON array syntax, arrays must be comprised of strings only")
        case .shell, .json, .invalidJSON:
            // Not JSON (`RUN [ -f x ] && …`): BuildKit runs it as a shell-form command.
            break
        }
    }

    private func unknownInstruction(_ instruction: Instruction, after previous: Instruction?) -> DockerfileError {
        let keyword = String(decoding: instruction.text[instruction.command.keyword], as: UTF8.self)
        if let previous {
            let command = previous.command.trigger(in: previous.text) ?? previous.command
            if command.form == .invalidJSON, previous.text[command.arguments].last != UInt8(ascii: "]") {
                let name = String(decoding: previous.text[previous.command.keyword].map(uppercased), as: UTF8.self)
                let escapeText = String(decoding: [escape], as: UTF8.self)
                return DockerfileError(
                    line: previous.startLine,
                    reason:
                        "exec-form JSON array of \(name) is not closed: it goes on at line \(instruction.startLine) without a line continuation (\(escapeText)), where \"\(keyword)\" is not an instruction"
                )
            }
        }
        return DockerfileError(line: instruction.startLine, reason: "unknown instruction: \(keyword)")
    }

    // MARK: references

    /// Rewrites one image reference. Returns the reference the build pulls (after rewriting),
    /// or `nil` when it names a stage or `scratch`.
    private mutating func rewriteReference(_ word: ShellWord, at point: ArgScope.Point, role: Role, line: Int) -> String? {
        let expansion = expander.expand(word, at: point, in: scope)
        let display = String(decoding: expansion.display, as: UTF8.self)
        if expansion.isComplete && role != .variableValue {
            let lower = lowered(expansion.bytes[...])
            if lower == "scratch" { return nil }
            switch role {
            case .stageBase:
                if earlierStages.contains(lower) { return nil }
            case .copyFrom, .onbuild:
                let isIndex = !expansion.bytes.isEmpty && expansion.bytes.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
                if isIndex || allStages.contains(lower) || earlierStages.contains(lower) { return nil }
            case .variableValue:
                break
            }
        }
        let syntax: ReferenceSyntax
        do {
            syntax = try ReferenceSyntax(expansion.bytes, validateSuffix: expansion.isComplete)
        } catch {
            if expansion.isComplete {
                warn(line, "\(display): \(error.reason); left as is")
            } else {
                warn(line, unresolved(display, expansion))
            }
            return display
        }
        let nameEnd = syntax.nameEnd
        guard !expansion.origins[0..<nameEnd].contains(Expansion.unknown) else {
            warn(line, unresolved(display, expansion))
            return display
        }
        let registry = syntax.normalizedRegistry
        let repository = syntax.normalizedRepository
        guard !proxies.isUnderTarget(registry: registry, repository: repository), let target = proxies.targets[registry]
        else { return display }
        let newName = "\(target)/\(repository)"
        let pulledName = newName + String(decoding: expansion.display[nameEnd...], as: UTF8.self)
        if let site, sites[site].pulledName == nil { sites[site].pulledName = pulledName }

        if word.parts.count == 1, case .variable(let variable) = word.parts[0],
            let image = rewriteVariable(variable, at: point, line: line, pulledName: pulledName)
        {
            return image
        }
        let prefix = "\(target)/" + (syntax.needsLibraryPrefix ? "library/" : "")
        if expansion.isContiguousSource(0..<nameEnd) {
            addEdit(expansion.origins[0]..<(expansion.origins[nameEnd - 1] + 1), newName, line: line, form: .reference)
        } else if syntax.registry == nil {
            addEdit(word.sourceStart..<word.sourceStart, prefix, line: line, form: .prefix)
        } else if let written = syntax.registry, expansion.isContiguousSource(0..<(written.upperBound + 1)) {
            addEdit(expansion.origins[0]..<(expansion.origins[written.upperBound] + 1), prefix, line: line, form: .reference)
        } else if let site {
            // The registry comes from a variable: the resolved name goes at the reference itself.
            sites[site].needsResolving = true
        }
        return pulledName
    }

    /// A reference that is one variable: rewrite where its value is written. Returns `nil` when
    /// the value is not written in one place (the caller falls back to the general rules).
    private mutating func rewriteVariable(
        _ variable: ShellWord.Variable, at point: ArgScope.Point, line: Int, pulledName: String
    ) -> String? {
        // Past a few levels, rewrite where the name is written (the general rules) instead.
        guard variableDepth < 32 else { return nil }
        variableDepth += 1
        defer { variableDepth -= 1 }
        switch variable.modifier {
        case .none, .required:
            break
        case .defaultValue(let colon):
            let value = expander.value(of: variable.name, at: point, in: scope)
            let isSet = value.map { !colon || !$0.bytes.isEmpty } ?? false
            if !isSet {
                guard let fallback = variable.word else { return nil }
                return rewriteReference(fallback, at: point, role: .variableValue, line: line)
            }
        case .alternative, .removePrefix, .removeSuffix, .unsupported:
            return nil
        }
        switch scope.source(of: variable.name, at: point) {
        case .unset, .automatic:
            return nil
        case .buildArg(let value, let binding):
            if buildArgs[variable.name] != pulledName, let site {
                pending.append(
                    PendingEdit(
                        target: .buildArg(variable.name, from: value), replacement: pulledName, line: line,
                        name: variable.name, site: site, optional: quiet > 0))
            }
            if let defaultWord = binding.defaultWord {
                quiet += 1
                _ = rewriteReference(
                    defaultWord, at: scope.point(of: binding), role: .variableValue, line: lineOf(defaultWord.sourceStart))
                quiet -= 1
            }
            return pulledName
        case .defaultValue(let binding):
            guard let defaultWord = binding.defaultWord else { return nil }
            return rewriteReference(
                defaultWord, at: scope.point(of: binding), role: .variableValue, line: lineOf(defaultWord.sourceStart))
        }
    }

    private func unresolved(_ display: String, _ expansion: Expansion) -> String {
        "\(display): cannot resolve \(expansion.unknowns.joined(separator: ", ")) (no default and no build arg); left as is"
    }

    /// An edit of the reference being rewritten; one outside it changes a variable's value and
    /// waits for `settle`.
    mutating func addEdit(_ range: Range<Int>, _ replacement: String, line: Int, form: Change.Form) {
        if let site, !sites[site].range.encloses(range) {
            pending.append(
                PendingEdit(
                    target: .source(range), replacement: replacement, line: line, name: defaultName(containing: range),
                    site: site, optional: quiet > 0))
            return
        }
        addDirectEdit(range, replacement, line: line, form: form)
    }

    mutating func addDirectEdit(_ range: Range<Int>, _ replacement: String, line: Int, form: Change.Form) {
        let bytes = Array(replacement.utf8)
        if let existing = edits[range.lowerBound] {
            if existing.range != range || existing.replacement != bytes {
                warn(line, "conflicting rewrites of the same text; kept the first")
            }
            return
        }
        edits[range.lowerBound] = Edit(range: range, replacement: bytes, form: form)
    }

    private mutating func startSite(_ instruction: Instruction, _ range: Range<Int>, line: Int) {
        let start = instruction.sourceOffset(range.lowerBound)
        sites.append(Site(range: start..<(instruction.sourceOffset(range.upperBound - 1) + 1), line: line))
        site = sites.count - 1
    }

    // MARK: helpers

    private func shellWord(_ instruction: Instruction, _ range: Range<Int>) -> ShellWord? {
        let sources = range.map(instruction.sourceOffset)
        return ShellWord.parse(instruction.text[range], sources: sources[...], escape: escape)
    }

    private mutating func register(_ instruction: Instruction, _ range: Range<Int>, keyword: String) {
        guard !range.isEmpty else { return }
        let start = instruction.sourceOffset(range.lowerBound)
        let end = instruction.sourceOffset(range.upperBound - 1) + 1
        words.append(Word(range: start..<end, line: lineOf(start), instruction: keyword))
    }

    private func text(_ instruction: Instruction, _ range: Range<Int>) -> String {
        String(decoding: instruction.text[range], as: UTF8.self)
    }

    mutating func warn(_ line: Int, _ message: String) {
        if quiet == 0 { warnings.append(Warning(line: line, message: message)) }
    }

    /// 1-based line of a source offset.
    func lineOf(_ offset: Int) -> Int {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return low + 1
    }

    // MARK: result

    func result(original: String) -> RewriteResult {
        guard !edits.isEmpty else {
            return RewriteResult(
                original: original, text: original, changes: [], warnings: warnings, buildArgs: buildArgs,
                buildArgChanges: buildArgChanges, pulledImages: pulled)
        }
        let sorted = edits.values.sorted { $0.range.lowerBound < $1.range.lowerBound }
        var output: [UInt8] = []
        output.reserveCapacity(source.count + sorted.count * 48)
        var cursor = 0
        for edit in sorted {
            output += source[cursor..<edit.range.lowerBound]
            output += edit.replacement
            cursor = edit.range.upperBound
        }
        output += source[cursor...]
        return RewriteResult(
            original: original, text: String(decoding: output, as: UTF8.self), changes: changes(sorted), warnings: warnings,
            buildArgs: buildArgs, buildArgChanges: buildArgChanges, pulledImages: pulled)
    }

    /// The edits grouped by the reference word they fall in (edits are sorted and never overlap).
    private func changes(_ sorted: [Edit]) -> [Change] {
        let words = self.words.sorted { $0.range.lowerBound < $1.range.lowerBound }
        var changes: [Change] = []
        var index = 0
        while index < sorted.count {
            let edit = sorted[index]
            let word = enclosingWord(of: edit.range, in: words)
                ?? Word(range: edit.range, line: lineOf(edit.range.lowerBound), instruction: "")
            var to: [UInt8] = []
            var cursor = word.range.lowerBound
            while index < sorted.count, sorted[index].range.upperBound <= word.range.upperBound {
                to += source[cursor..<sorted[index].range.lowerBound]
                to += sorted[index].replacement
                cursor = sorted[index].range.upperBound
                index += 1
            }
            to += source[cursor..<word.range.upperBound]
            changes.append(
                Change(
                    line: word.line, instruction: word.instruction, from: String(decoding: source[word.range], as: UTF8.self),
                    to: String(decoding: to, as: UTF8.self), form: edit.form))
        }
        return changes
    }

    /// The last registered word that starts at or before `range` and contains it.
    private func enclosingWord(of range: Range<Int>, in words: [Word]) -> Word? {
        var low = 0
        var high = words.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if words[mid].range.lowerBound <= range.lowerBound { low = mid } else { high = mid - 1 }
        }
        guard !words.isEmpty, words[low].range.lowerBound <= range.lowerBound, range.upperBound <= words[low].range.upperBound
        else { return nil }
        return words[low]
    }
}

/// Splits a `--mount` value into its comma-separated fields (double-quoted fields allowed, as
/// encoding/csv reads them), with the logical position of each byte.
func csvFields(_ bytes: ArraySlice<UInt8>, _ positions: ArraySlice<Int>) -> [(bytes: ArraySlice<UInt8>, positions: ArraySlice<Int>)] {
    var fields: [(bytes: ArraySlice<UInt8>, positions: ArraySlice<Int>)] = []
    let shift = positions.startIndex - bytes.startIndex
    var start = bytes.startIndex
    var i = start
    var quoted = false
    while i <= bytes.endIndex {
        if i == bytes.endIndex || (!quoted && bytes[i] == UInt8(ascii: ",")) {
            var s = start
            var e = i
            if e - s >= 2 && bytes[s] == UInt8(ascii: "\"") && bytes[e - 1] == UInt8(ascii: "\"") {
                s += 1
                e -= 1
            }
            fields.append((bytes[s..<e], positions[(s + shift)..<(e + shift)]))
            start = i + 1
        } else if bytes[i] == UInt8(ascii: "\"") {
            quoted.toggle()
        }
        i += 1
    }
    return fields
}

/// The images a `RUN --mount` value names: the value of each `from=` field, with the logical
/// position of each byte.
func mountSources(_ bytes: ArraySlice<UInt8>, _ positions: ArraySlice<Int>) -> [(bytes: ArraySlice<UInt8>, positions: ArraySlice<Int>)] {
    csvFields(bytes, positions).compactMap { field in
        guard let equals = field.bytes.firstIndex(of: UInt8(ascii: "=")),
            lowered(field.bytes[field.bytes.startIndex..<equals]) == "from"
        else { return nil }
        let offset = equals + 1 - field.bytes.startIndex + field.positions.startIndex
        return (field.bytes[(equals + 1)...], field.positions[offset...])
    }
}

@inline(__always)
private func uppercased(_ c: UInt8) -> UInt8 {
    c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z") ? c & 0xDF : c
}
