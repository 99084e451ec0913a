/// `ARG` (and a stage's `ENV`) declarations and how a variable expands at a given point of the Dockerfile, following
/// BuildKit: `FROM` lines see the `ARG`s declared before the first `FROM` (meta args); inside a
/// stage, only the `ARG`s declared in that stage (an `ARG NAME` without default takes the meta
/// arg's value). A build arg passed by the caller overrides the default of a declared `ARG`.
struct ArgScope {
    /// One `ARG NAME[=default]` declaration.
    struct Binding {
        var id: Int
        var name: String
        /// Position in declaration order: a default only sees earlier declarations.
        var order: Int
        var isMeta: Bool
        var defaultWord: ShellWord?
        /// An `ENV`, which build args do not override.
        var isEnv = false
    }

    /// Where a lookup happens: before the first `FROM`, or inside a stage, before declaration `order`.
    enum Point {
        case meta(before: Int)
        case stage(before: Int)
    }

    /// Where a variable's value comes from.
    enum Source {
        case unset
        case buildArg(String, Binding)
        case defaultValue(Binding)
        /// One of BuildKit's automatic platform args (`TARGETARCH`…).
        case automatic(String)
    }

    private(set) var bindings: [Binding] = []
    private var meta: [String: [Int]] = [:]
    private var stage: [String: [Int]] = [:]
    private(set) var order = 0
    let buildArgs: [String: String]
    /// BuildKit's automatic platform args: seen by `FROM` undeclared, in a stage after `ARG NAME`.
    let automatic: [String: String]

    init(buildArgs: [String: String], platform: BuildPlatform = .linuxAMD64) {
        self.buildArgs = buildArgs
        automatic = platform.automaticArgs()
    }

    /// Declares an `ARG`; returns its binding.
    mutating func declare(_ name: String, defaultWord: ShellWord?, isMeta: Bool, isEnv: Bool = false) -> Binding {
        let binding = Binding(
            id: bindings.count, name: name, order: order, isMeta: isMeta, defaultWord: defaultWord, isEnv: isEnv)
        bindings.append(binding)
        if isMeta { meta[name, default: []].append(binding.id) } else { stage[name, default: []].append(binding.id) }
        order += 1
        return binding
    }

    /// A new stage starts: its `ARG`s are its own.
    mutating func startStage() {
        stage.removeAll(keepingCapacity: true)
    }

    /// The current point: meta args before the first `FROM`, stage args after it.
    func point(inStage: Bool) -> Point {
        inStage ? .stage(before: order) : .meta(before: order)
    }

    /// The point a binding's default is expanded at.
    func point(of binding: Binding) -> Point {
        binding.isMeta ? .meta(before: binding.order) : .stage(before: binding.order)
    }

    func source(of name: String, at point: Point) -> Source {
        let binding: Binding?
        switch point {
        case .meta(let before): binding = latest(meta[name], before: before)
        case .stage(let before): binding = latest(stage[name], before: before)
        }
        guard let binding else {
            if case .meta = point, let value = automatic[name] { return .automatic(value) }
            return .unset
        }
        if !binding.isEnv, let value = buildArgs[name] { return .buildArg(value, binding) }
        if binding.defaultWord != nil { return .defaultValue(binding) }
        if !binding.isMeta, let metaBinding = latest(meta[name], before: Int.max), metaBinding.defaultWord != nil {
            return .defaultValue(metaBinding)
        }
        if let value = automatic[name] { return .automatic(value) }
        return .unset
    }

    private func latest(_ ids: [Int]?, before: Int) -> Binding? {
        guard let ids else { return nil }
        for id in ids.reversed() where bindings[id].order < before { return bindings[id] }
        return nil
    }
}

/// A word with its variables expanded, remembering where each byte came from.
struct Expansion {
    /// Marks a byte that a variable produced (a build arg's value).
    static let synthetic = -1
    /// Marks the placeholder byte of a variable that has no known value.
    static let unknown = -2

    var bytes: [UInt8] = []
    /// Source offset of each byte, or `synthetic` / `unknown`.
    var origins: [Int] = []
    /// `bytes` with each unknown variable shown as written instead of its placeholder.
    var display: [UInt8] = []
    /// The unknown variables, as written.
    var unknowns: [String] = []

    var isComplete: Bool { unknowns.isEmpty }

    mutating func append(_ other: Expansion) {
        bytes += other.bytes
        origins += other.origins
        display += other.display
        unknowns += other.unknowns
    }

    mutating func appendUnknown(_ raw: [UInt8]) {
        bytes.append(UInt8(ascii: "x"))  // valid in any part of a reference
        origins.append(Expansion.unknown)
        display += raw
        unknowns.append(String(decoding: raw, as: UTF8.self))
    }

    /// Whether `origins[range]` are consecutive source offsets (the bytes are written together).
    func isContiguousSource(_ range: Range<Int>) -> Bool {
        guard let first = range.first, origins[first] >= 0 else { return false }
        for i in range where origins[i] != origins[first] + (i - first) { return false }
        return true
    }
}

/// Expands words against an `ArgScope`, caching the expansion of each `ARG` default.
struct Expander {
    private var cache: [Int: Expansion] = [:]

    /// Expands a new binding's default right away. Its default only refers to earlier bindings,
    /// already expanded, so expansion never recurses through chains of `ARG`s.
    mutating func remember(_ binding: ArgScope.Binding, in scope: ArgScope) {
        if let word = binding.defaultWord { cache[binding.id] = expand(word, at: scope.point(of: binding), in: scope) }
    }

    mutating func expand(_ word: ShellWord, at point: ArgScope.Point, in scope: ArgScope) -> Expansion {
        var result = Expansion()
        for part in word.parts {
            switch part {
            case .literal(let bytes, let sources):
                result.bytes += bytes
                result.origins += sources
                result.display += bytes
            case .variable(let variable):
                result.append(expand(variable, at: point, in: scope))
            }
        }
        return result
    }

    /// The value of a variable, or `nil` when unset.
    mutating func value(of name: String, at point: ArgScope.Point, in scope: ArgScope) -> Expansion? {
        switch scope.source(of: name, at: point) {
        case .unset:
            return nil
        case .buildArg(let value, _), .automatic(let value):
            let bytes = Array(value.utf8)
            return Expansion(
                bytes: bytes, origins: Array(repeating: Expansion.synthetic, count: bytes.count), display: bytes)
        case .defaultValue(let binding):
            if let cached = cache[binding.id] { return cached }
            let expansion = expand(binding.defaultWord!, at: scope.point(of: binding), in: scope)
            cache[binding.id] = expansion
            return expansion
        }
    }

    private mutating func expand(_ variable: ShellWord.Variable, at point: ArgScope.Point, in scope: ArgScope) -> Expansion {
        let value = value(of: variable.name, at: point, in: scope)
        func isSet(_ colon: Bool) -> Bool {
            guard let value else { return false }
            return !colon || !value.bytes.isEmpty
        }
        var result = Expansion()
        switch variable.modifier {
        case .none, .required:
            if let value { result = value } else { result.appendUnknown(variable.raw) }
        case .defaultValue(let colon):
            if isSet(colon) {
                result = value!
            } else if let word = variable.word {
                result = expand(word, at: point, in: scope)
            }
        case .alternative(let colon):
            if isSet(colon), let word = variable.word { result = expand(word, at: point, in: scope) }
        case .removePrefix(let longest), .removeSuffix(let longest):
            let pattern = variable.word.map { expand($0, at: point, in: scope) } ?? Expansion()
            let whole = value ?? Expansion()
            guard whole.isComplete, pattern.isComplete, whole.bytes.count <= ShellPattern.maximumValueLength else {
                result.appendUnknown(variable.raw)
                break
            }
            let matcher = ShellPattern(pattern.bytes)
            result = whole
            if case .removePrefix = variable.modifier {
                let n = matcher.prefixLength(in: whole.bytes[...], longest: longest)
                result.bytes.removeFirst(n)
                result.origins.removeFirst(n)
                result.display.removeFirst(n)
            } else {
                let n = matcher.suffixLength(in: whole.bytes[...], longest: longest)
                result.bytes.removeLast(n)
                result.origins.removeLast(n)
                result.display.removeLast(n)
            }
            // What is left is no longer written anywhere as is: editing it in place would be trimmed again.
            result.origins = Array(repeating: Expansion.synthetic, count: result.bytes.count)
        case .unsupported:
            result.appendUnknown(variable.raw)
        }
        return result
    }
}
