/// Deciding where a rewrite that changes a variable's value may go, once every reader of the
/// variable is known, and the self-check of the finished rewrite.
///
/// An edit of an `ARG` default (or of a build arg the caller passes) changes the value for every
/// instruction that reads the variable — another reference, a `RUN`, an `ENV`, a `LABEL`, a stage
/// that declares the `ARG` and runs commands with it in its environment. A stage's `ENV` is kept
/// in the image it builds, so its value is never edited. Such an edit is kept only
/// when all those reads are references that asked for exactly this edit; otherwise each of them
/// gets its resolved, proxied name written where it stands, and the variable keeps its value.
extension RewriteSession {
    /// One image reference of the file: a `FROM` argument, a `--from=` or `from=` value.
    struct Site {
        var range: Range<Int>
        var line: Int
        /// What the build pulls from it once rewritten, variables expanded.
        var pulledName: String?
        /// Whether only its resolved name, written in its place, can proxy it.
        var needsResolving = false
    }

    /// An edit that changes a variable's value, on behalf of the reference `site`.
    struct PendingEdit {
        enum Target: Hashable {
            /// Bytes of an `ARG` default.
            case source(Range<Int>)
            /// A build arg's value (`from` as the caller passed it).
            case buildArg(String, from: String)
        }

        var target: Target
        var replacement: String
        var line: Int
        /// The variable whose value changes; `nil` when the edit lies in no `ARG` default.
        var name: String?
        var site: Int
        /// Made only to keep the file's default in line with a build arg: dropped when not allowed.
        var optional: Bool
    }

    /// Where variables are read: every `$NAME` and `${NAME…}` of the file (comments and heredocs
    /// included, which can only make the rule stricter), and the stage `ARG`s a `RUN` sees.
    struct Reads {
        /// Source offset of the read, the name read, and the `ARG` default it lies in (index into `defaults`).
        var list: [(offset: Int, name: String, inDefault: Int?)] = []
        /// Name → indexes into `list`.
        var byName: [String: [Int]] = [:]
        /// Name → the names of the `ARG`s whose defaults read it.
        var dependents: [String: Set<String>] = [:]
    }

    func defaultName(containing range: Range<Int>) -> String? {
        var low = 0
        var high = defaults.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if defaults[mid].range.lowerBound <= range.lowerBound { low = mid } else { high = mid - 1 }
        }
        guard !defaults.isEmpty, defaults[low].range.encloses(range) else { return nil }
        return defaults[low].name
    }

    /// Applies the pending edits that are allowed, and writes resolved names where they are not.
    mutating func settle() {
        var resolving = Set(sites.indices.filter { sites[$0].needsResolving })
        guard !pending.isEmpty || !resolving.isEmpty else { return }
        let reads = variableReads()
        var order: [PendingEdit.Target] = []
        var groups: [PendingEdit.Target: [PendingEdit]] = [:]
        for edit in pending {
            if groups[edit.target] == nil { order.append(edit.target) }
            groups[edit.target, default: []].append(edit)
        }
        var accepted: [PendingEdit.Target] = []
        for target in order {
            let group = groups[target]!
            let consistent = group.allSatisfy { $0.replacement == group[0].replacement }
            let claimers = group.map { sites[$0.site].range }
            if consistent, let name = group[0].name, onlyRead(by: claimers, name: name, reads: reads) {
                accepted.append(target)
            } else {
                for edit in group where !edit.optional { resolving.insert(edit.site) }
            }
        }
        for target in accepted {
            guard let edit = groups[target]!.first(where: { !resolving.contains($0.site) }) else { continue }
            switch target {
            case .source(let range):
                addDirectEdit(range, edit.replacement, line: edit.line, form: .argDefault)
            case .buildArg(let name, let from):
                buildArgs[name] = edit.replacement
                buildArgChanges.append(BuildArgChange(name: name, from: from, to: edit.replacement))
            }
        }
        for index in resolving.sorted() { resolve(index) }
    }

    /// Writes a reference's resolved, proxied name in its place, replacing any edit inside it.
    private mutating func resolve(_ index: Int) {
        let site = sites[index]
        let written = String(decoding: source[site.range], as: UTF8.self)
        guard let name = site.pulledName, !name.contains("$"), !source[site.range].contains(0x0A) else {
            warn(site.line, "\(written): its variables are read elsewhere and it cannot be written out resolved; left as is")
            return
        }
        for (start, edit) in edits where site.range.encloses(edit.range) { edits[start] = nil }
        addDirectEdit(site.range, name, line: site.line, form: .resolved)
    }

    /// Whether every read of `name`, and of every `ARG` whose default passes it on, is inside one
    /// of the `claimers` (or inside those defaults).
    private func onlyRead(by claimers: [Range<Int>], name: String, reads: Reads) -> Bool {
        // Sites do not overlap: sorted by start, the one that may hold an offset is found by bisection.
        let claimers = claimers.sorted { $0.lowerBound < $1.lowerBound }
        func isClaimed(_ offset: Int) -> Bool {
            var low = 0
            var high = claimers.count
            while low < high {
                let mid = (low + high) / 2
                if claimers[mid].lowerBound <= offset { low = mid + 1 } else { high = mid }
            }
            return low > 0 && offset < claimers[low - 1].upperBound
        }
        var closure: Set<String> = [name]
        var queue = [name]
        while let next = queue.popLast() {
            for dependent in reads.dependents[next, default: []] where closure.insert(dependent).inserted {
                queue.append(dependent)
            }
        }
        for name in closure {
            for index in reads.byName[name, default: []] {
                let read = reads.list[index]
                if let index = read.inDefault, closure.contains(defaults[index].name) { continue }
                if !isClaimed(read.offset) { return false }
            }
        }
        return true
    }

    private func variableReads() -> Reads {
        var reads = Reads()
        var next = 0
        var i = 0
        while i < source.count {
            guard source[i] == UInt8(ascii: "$") else {
                i += 1
                continue
            }
            var j = i + 1
            if j < source.count && source[j] == UInt8(ascii: "{") { j += 1 }
            let start = j
            while j < source.count && (isAlphanumeric(source[j]) || source[j] == UInt8(ascii: "_")) { j += 1 }
            if j > start {
                let name = String(decoding: source[start..<j], as: UTF8.self)
                while next < defaults.count && defaults[next].range.upperBound <= i { next += 1 }
                let inDefault = next < defaults.count && defaults[next].range.lowerBound <= i ? next : nil
                reads.list.append((i, name, inDefault))
                if let inDefault { reads.dependents[name, default: []].insert(defaults[inDefault].name) }
            }
            i = max(j, i + 1)
        }
        for exposed in exposedArgs { reads.list.append((exposed.offset, exposed.name, nil)) }
        for (index, read) in reads.list.enumerated() { reads.byName[read.name, default: []].append(index) }
        return reads
    }

    /// The self-check: lists what the original and the rewritten file pull for this build, as
    /// BuildKit expands them, and compares both with the result (`RewriteCheck`).
    func verify(_ result: RewriteResult) throws {
        let before = PullSiteLister(escape: escape, buildArgs: requestBuildArgs, platform: platform).sites(instructions)
        var after = before
        if !edits.isEmpty || result.buildArgs != requestBuildArgs {
            var lexer = DockerfileLexer(Array(result.text.utf8))
            let rewritten: [Instruction]
            do {
                rewritten = try lexer.instructions()
            } catch {
                throw UnsafeRewrite(line: error.line, instruction: "", reported: "a Dockerfile", pulled: error.reason)
            }
            after = PullSiteLister(escape: lexer.escape, buildArgs: result.buildArgs, platform: platform).sites(rewritten)
        }
        try RewriteCheck.verify(before: before, after: after, reported: result.pulledImages, proxies: proxies)
    }
}

extension Range where Bound == Int {
    /// Whether `other` lies within this range (an empty `other` at either end included).
    func encloses(_ other: Range<Int>) -> Bool {
        lowerBound <= other.lowerBound && other.upperBound <= upperBound
    }
}
