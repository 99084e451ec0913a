import PathBytes

/// One `.dockerignore` pattern, matched as moby/patternmatcher matches it: `*`
/// and `?` never cross `/`, `**` spans any number of folders, `[...]` classes,
/// `\` escapes. moby compiles patterns to regular expressions with shortcuts for
/// exact, prefix and suffix patterns; the same language is matched here directly.
struct GlobPattern: Sendable, Hashable {
    enum Token: Sendable, Hashable {
        case literal(Unicode.Scalar)
        /// `?`: one character other than `/`.
        case anyCharacter
        /// `*`: any run of characters other than `/`.
        case anyRun
        /// `**` (followed by more): `(.*/)?`, zero or more whole folders.
        case anyFolders
        /// `**` at the end: anything.
        case anything
        case set(CharacterSet)
    }

    struct CharacterSet: Sendable, Hashable {
        var negated: Bool
        var ranges: [ClosedRange<UInt32>]

        func contains(_ scalar: Unicode.Scalar) -> Bool {
            ranges.contains { $0.contains(scalar.value) } != negated
        }
    }

    private enum Kind: Sendable, Hashable {
        case tokens([Token])
        /// moby's suffix shortcut: `**` then only literal text matches any path ending in that text.
        case suffix(String)
    }

    struct BadPattern: Error {}

    let text: String
    private let kind: Kind

    init(_ text: String) throws(BadPattern) {
        self.text = text
        let scalars = Array(text.unicodeScalars)
        var tokens: [Token] = []
        var startsWithFolders = false
        // Anything but plain characters after a leading `**` turns moby's suffix shortcut off.
        var special = false
        var index = 0
        var iteration = 0
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            switch scalar {
            case "*" where index < scalars.count && scalars[index] == "*":
                index += 1
                if index < scalars.count && scalars[index] == "/" { index += 1 }
                if iteration == 0 { startsWithFolders = true } else { special = true }
                tokens.append(index == scalars.count ? .anything : .anyFolders)
            case "*":
                tokens.append(.anyRun)
                special = true
            case "?":
                tokens.append(.anyCharacter)
                special = true
            case "\\":
                guard index < scalars.count else { throw BadPattern() }
                tokens.append(.literal(scalars[index]))
                index += 1
                special = true
            case "[":
                tokens.append(.set(try Self.parseSet(scalars, from: &index)))
                special = true
            case "]":
                tokens.append(.literal("]"))
                special = true
            default:
                tokens.append(.literal(scalar))
            }
            iteration += 1
        }
        if startsWithFolders && !special {
            kind = .suffix(String(String.UnicodeScalarView(scalars.dropFirst(2))))
        } else {
            kind = .tokens(tokens)
        }
    }

    func matches(_ path: String) -> Bool {
        switch kind {
        case .suffix(let suffix):
            // Bytes, as Go's strings.HasSuffix: "/secret" ends "\u{0600}/secret" though no Character of it is "/".
            if path.bytesEnd(with: suffix) { return true }
            return suffix.bytesStart(with: "/") && path.bytesEqual(suffix.droppingFirstBytes())
        case .tokens(let tokens):
            return Self.match(tokens, Array(path.unicodeScalars))
        }
    }

    /// Go's `filepath.Match` class syntax: `[`, optional `^`, one or more characters
    /// or ranges (`\` escapes), `]`.
    private static func parseSet(_ scalars: [Unicode.Scalar], from index: inout Int) throws(BadPattern) -> CharacterSet
    {
        var set = CharacterSet(negated: false, ranges: [])
        if index < scalars.count && scalars[index] == "^" {
            set.negated = true
            index += 1
        }
        func character() throws(BadPattern) -> Unicode.Scalar {
            guard index < scalars.count, scalars[index] != "-", scalars[index] != "]" else { throw BadPattern() }
            if scalars[index] == "\\" {
                index += 1
                guard index < scalars.count else { throw BadPattern() }
            } else if scalars[index] == "*" || scalars[index] == "?" {
                // moby would turn these into regular-expression fragments inside the class.
                throw BadPattern()
            }
            defer { index += 1 }
            return scalars[index]
        }
        while true {
            if index < scalars.count && scalars[index] == "]" && !set.ranges.isEmpty {
                index += 1
                return set
            }
            let low = try character()
            var high = low
            if index < scalars.count && scalars[index] == "-" {
                index += 1
                high = try character()
            }
            guard low.value <= high.value else { throw BadPattern() }
            set.ranges.append(low.value...high.value)
        }
    }

    /// Matches by tracking every position the tokens so far can end at.
    private static func match(_ tokens: [Token], _ path: [Unicode.Scalar]) -> Bool {
        let count = path.count
        var positions = [Bool](repeating: false, count: count + 1)
        positions[0] = true
        for token in tokens {
            var next = [Bool](repeating: false, count: count + 1)
            for start in 0...count where positions[start] {
                switch token {
                case .literal(let scalar):
                    if start < count && path[start] == scalar { next[start + 1] = true }
                case .anyCharacter:
                    if start < count && path[start] != "/" { next[start + 1] = true }
                case .set(let set):
                    if start < count && set.contains(path[start]) { next[start + 1] = true }
                case .anyRun:
                    next[start] = true
                    var end = start
                    while end < count && path[end] != "/" {
                        end += 1
                        next[end] = true
                    }
                case .anything:
                    for end in start...count { next[end] = true }
                case .anyFolders:
                    next[start] = true
                    for slash in start..<count where path[slash] == "/" { next[slash + 1] = true }
                }
            }
            guard next.contains(true) else { return false }
            positions = next
        }
        return positions[count]
    }
}
