/// The parts of one logical instruction line, located the way BuildKit's parser splits them
/// (`splitCommand`, `extractBuilderFlags`, `parseWords`, `parseMaybeJSON`). All ranges and
/// positions are indices into the logical line.
struct Command {
    /// The instruction keyword as written.
    var keyword: Range<Int>
    /// The keyword lowercased (`from`, `copy`…).
    var name: String
    /// `--name[=value]` flags before the arguments, with quotes and `\` escapes removed.
    var flags: [Flag]
    /// The arguments after the flags, trimmed.
    var arguments: Range<Int>
    /// Whether the arguments are an exec-form JSON array.
    var form: ArgumentForm

    /// Parses `text[range]` as one instruction.
    init(_ text: [UInt8], _ range: Range<Int>) {
        var start = range.lowerBound
        var end = range.upperBound
        while start < end && isASCIISpace(text[start]) { start += 1 }
        while end > start && isASCIISpace(text[end - 1]) { end -= 1 }
        var i = start
        while i < end && !isSeparator(text[i]) { i += 1 }
        keyword = start..<i
        name = String(decoding: text[start..<i].map(lowercased), as: UTF8.self)
        while i < end && isSeparator(text[i]) { i += 1 }
        let (flags, rest) = extractFlags(text, i..<end)
        self.flags = flags
        var a = rest
        while a < end && isASCIISpace(text[a]) { a += 1 }
        arguments = a..<end
        form = .shell
        if Command.jsonInstructions.contains(name), a < end, text[a] == UInt8(ascii: "[") {
            form = classifyJSONArray(text[a..<end])
        }
    }

    /// The instruction an `ONBUILD` line triggers.
    func trigger(in text: [UInt8]) -> Command? {
        name == "onbuild" && !arguments.isEmpty ? Command(text, arguments) : nil
    }

    /// Whether BuildKit reads heredocs for this instruction (`RUN`, `COPY`, `ADD`, also after `ONBUILD`).
    func canContainHeredoc(in text: [UInt8]) -> Bool {
        if name == "onbuild" { return trigger(in: text)?.canContainHeredoc(in: text) ?? false }
        return (name == "run" || name == "copy" || name == "add") && form != .json
    }

    /// Instructions whose arguments may be an exec-form JSON array.
    static let jsonInstructions: Set<String> = ["run", "cmd", "entrypoint", "shell", "copy", "add", "volume"]

    static let knownInstructions: Set<String> = [
        "add", "arg", "cmd", "copy", "entrypoint", "env", "expose", "from", "healthcheck", "label",
        "maintainer", "onbuild", "run", "shell", "stopsignal", "user", "volume", "workdir",
    ]
}

enum ArgumentForm: Equatable {
    case shell
    /// A valid JSON array of strings.
    case json
    /// Starts with `[` but is not valid JSON: BuildKit runs it as a shell-form command.
    case invalidJSON
    /// Valid JSON, but not all elements are strings: BuildKit rejects the file.
    case nonStringJSON
}

/// A builder flag (`--from=node:20`), decoded, with the logical position of every byte.
struct Flag {
    var bytes: [UInt8]
    var positions: [Int]

    /// The value of `--name=value`, or `nil` when this flag has another name.
    func value(named flagName: String) -> (bytes: ArraySlice<UInt8>, positions: ArraySlice<Int>)? {
        let prefix = Array("--\(flagName)=".utf8)
        guard bytes.count >= prefix.count, bytes[0..<prefix.count].elementsEqual(prefix) else { return nil }
        return (bytes[prefix.count...], positions[prefix.count...])
    }
}

@inline(__always)
func isSeparator(_ c: UInt8) -> Bool {
    // `[\t\v\f\r ]` as BuildKit's reWhitespace.
    c == 0x20 || c == 0x09 || c == 0x0B || c == 0x0C || c == 0x0D
}

@inline(__always)
func lowercased(_ c: UInt8) -> UInt8 {
    c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") ? c | 0x20 : c
}

/// BuildKit's `extractBuilderFlags`: leading `--flag` words (quotes and `\` escapes processed),
/// and where the rest of the line starts.
private func extractFlags(_ t: [UInt8], _ range: Range<Int>) -> ([Flag], Int) {
    enum Phase { case spaces, word, quote }
    let end = range.upperBound
    var flags: [Flag] = []
    var phase = Phase.spaces
    var word: [UInt8] = []
    var positions: [Int] = []
    var quote: UInt8 = 0
    var blankOK = false
    var p = range.lowerBound
    let dashDash: [UInt8] = [UInt8(ascii: "-"), UInt8(ascii: "-")]
    while p <= end {
        let atEnd = p == end
        var ch: UInt8 = atEnd ? 0 : t[p]
        if phase == .spaces {
            if atEnd { break }
            if isASCIISpace(ch) {
                p += 1
                continue
            }
            if ch != UInt8(ascii: "-") || p + 1 == end || t[p + 1] != UInt8(ascii: "-") { return (flags, p) }
            phase = .word
        }
        if atEnd {
            if word != dashDash && (blankOK || !word.isEmpty) { flags.append(Flag(bytes: word, positions: positions)) }
            break
        }
        if phase == .word {
            if isASCIISpace(ch) {
                phase = .spaces
                if word == dashDash { return (flags, p) }
                if blankOK || !word.isEmpty { flags.append(Flag(bytes: word, positions: positions)) }
                word.removeAll()
                positions.removeAll()
                blankOK = false
                p += 1
                continue
            }
            if ch == UInt8(ascii: "'") || ch == UInt8(ascii: "\"") {
                quote = ch
                blankOK = true
                phase = .quote
                p += 1
                continue
            }
        } else if ch == quote {
            phase = .word
            p += 1
            continue
        }
        // In a word or a quote alike, an escape takes the next byte as written; a trailing one
        // ends the text (the next turn is at the end and closes the word).
        if ch == UInt8(ascii: "\\") {
            if p + 1 == end {
                p += 1
                continue
            }
            p += 1
            ch = t[p]
        }
        word.append(ch)
        positions.append(p)
        p += 1
    }
    return (flags, end)
}

/// BuildKit's `parseWords` (used for `ARG`, `ENV`, `LABEL`): words split on whitespace outside
/// quotes, kept raw (quotes and escapes stay in the word).
func rawWords(_ t: [UInt8], _ range: Range<Int>, escape: UInt8) -> [Range<Int>] {
    var words: [Range<Int>] = []
    var i = range.lowerBound
    let end = range.upperBound
    while i < end {
        while i < end && isASCIISpace(t[i]) { i += 1 }
        if i == end { break }
        let start = i
        var last = i  // one past the last byte that belongs to the word
        var quote: UInt8 = 0
        while i < end {
            let c = t[i]
            if quote == 0 {
                if isASCIISpace(c) { break }
                if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
                    quote = c
                } else if c == escape {
                    if i + 1 == end {
                        i += 1
                        break
                    }
                    i += 1
                }
            } else if c == quote {
                quote = 0
            } else if c == escape && quote != UInt8(ascii: "'") {
                if i + 1 == end {
                    i += 1
                    break
                }
                i += 1
            }
            i += 1
            last = i
        }
        words.append(start..<last)
    }
    return words
}

/// `ENV a=b c=d`, or the legacy `ENV name value with spaces`: each name and its raw value.
func envPairs(_ text: [UInt8], _ range: Range<Int>, escape: UInt8) -> [(name: String, value: Range<Int>)] {
    let words = rawWords(text, range, escape: escape)
    guard let first = words.first else { return [] }
    guard text[first].contains(UInt8(ascii: "=")) else {
        var valueStart = first.upperBound
        while valueStart < range.upperBound && isASCIISpace(text[valueStart]) { valueStart += 1 }
        return [(String(decoding: text[first], as: UTF8.self), valueStart..<range.upperBound)]
    }
    return words.compactMap { word in
        guard let equals = text[word].firstIndex(of: UInt8(ascii: "=")) else { return nil }
        return (String(decoding: text[word.lowerBound..<equals], as: UTF8.self), (equals + 1)..<word.upperBound)
    }
}

/// Words split on `[\t\v\f\r ]+`, as BuildKit's `parseStringsWhitespaceDelimited` (used for `FROM`).
func whitespaceWords(_ t: [UInt8], _ range: Range<Int>) -> [Range<Int>] {
    var words: [Range<Int>] = []
    var i = range.lowerBound
    while i < range.upperBound {
        while i < range.upperBound && isSeparator(t[i]) { i += 1 }
        let start = i
        while i < range.upperBound && !isSeparator(t[i]) { i += 1 }
        if i > start { words.append(start..<i) }
    }
    return words
}

/// The heredoc names (`<<EOF`, `<<-"EOF"`…) of a logical line, in order, with whether each strips
/// leading tabs. Like BuildKit's `heredocsFromLine`: shell words (backslash escapes, quotes kept)
/// that match `^[0-9]*<<-?[^<]+$`; the name is the rest with quotes and escapes removed.
func heredocNames(_ t: [UInt8]) -> [(name: [UInt8], chomp: Bool)] {
    var result: [(name: [UInt8], chomp: Bool)] = []
    var i = 0
    let end = t.count
    while i < end {
        while i < end && isASCIISpace(t[i]) { i += 1 }
        let start = i
        while i < end && !isASCIISpace(t[i]) {
            let c = t[i]
            if c == UInt8(ascii: "\\") {
                i += 2
            } else if c == UInt8(ascii: "'") {
                i += 1
                while i < end && t[i] != UInt8(ascii: "'") { i += 1 }
                i += 1
            } else if c == UInt8(ascii: "\"") {
                i += 1
                while i < end && t[i] != UInt8(ascii: "\"") { i += t[i] == UInt8(ascii: "\\") ? 2 : 1 }
                i += 1
            } else if c == UInt8(ascii: "$") && i + 1 < end && t[i + 1] == UInt8(ascii: "{") {
                var depth = 0
                repeat {
                    if t[i] == UInt8(ascii: "{") { depth += 1 } else if t[i] == UInt8(ascii: "}") { depth -= 1 }
                    i += 1
                } while i < end && depth > 0
            } else {
                i += 1
            }
        }
        i = min(i, end)
        guard i > start else { continue }
        var j = start
        while j < i && t[j] >= UInt8(ascii: "0") && t[j] <= UInt8(ascii: "9") { j += 1 }
        guard j + 2 <= i, t[j] == UInt8(ascii: "<"), t[j + 1] == UInt8(ascii: "<") else { continue }
        j += 2
        var chomp = false
        if j < i && t[j] == UInt8(ascii: "-") {
            chomp = true
            j += 1
        }
        let rest = t[j..<i]
        guard !rest.isEmpty, !rest.contains(UInt8(ascii: "<")) else { continue }
        // Remove quotes and escapes.
        var name: [UInt8] = []
        var quote: UInt8 = 0
        var k = rest.startIndex
        while k < rest.endIndex {
            let c = rest[k]
            if quote == 0 && (c == UInt8(ascii: "'") || c == UInt8(ascii: "\"")) {
                quote = c
            } else if quote != 0 && c == quote {
                quote = 0
            } else if c == UInt8(ascii: "\\") && quote != UInt8(ascii: "'") && k + 1 < rest.endIndex {
                k += 1
                name.append(rest[k])
            } else {
                name.append(c)
            }
            k += 1
        }
        guard !name.isEmpty else { continue }
        result.append((name, chomp))
    }
    return result
}
