/// An anchored pattern made only of ASCII character classes with quantifiers, such as
/// `^[a-z0-9][a-z0-9._-]*$` or `^[0-9a-f]{64}$`: most of the specs' patterns, matched byte by
/// byte instead of by ICU (`NSRegularExpression` was a fiftieth of a submit's CPU). Any other
/// pattern (escapes, groups, negated classes, literals outside a class) is not one of these.
struct ClassSequencePattern: Sendable {
    private struct Item: Sendable {
        var members: [Bool]  // 128 ASCII bytes
        var minimum: Int
        var maximum: Int?  // nil: unbounded
    }

    private let items: [Item]

    /// Nil when `source` is not of this shape.
    init?(_ source: String) {
        var bytes = Array(source.utf8)[...]
        guard bytes.first == UInt8(ascii: "^"), bytes.last == UInt8(ascii: "$"), bytes.count >= 2 else { return nil }
        bytes = bytes.dropFirst().dropLast()
        var items: [Item] = []
        while !bytes.isEmpty {
            guard bytes.popFirst() == UInt8(ascii: "["), let members = Self.members(of: &bytes) else { return nil }
            guard let (minimum, maximum) = Self.quantifier(of: &bytes) else { return nil }
            items.append(Item(members: members, minimum: minimum, maximum: maximum))
        }
        guard !items.isEmpty else { return nil }
        self.items = items
    }

    func matches(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var reachable = [Bool](repeating: false, count: bytes.count + 1)
        reachable[0] = true
        for item in items {
            // run[p]: how many bytes from p on are in the class.
            var run = [Int](repeating: 0, count: bytes.count + 1)
            for index in stride(from: bytes.count - 1, through: 0, by: -1) {
                let byte = bytes[index]
                run[index] = byte < 0x80 && item.members[Int(byte)] ? run[index + 1] + 1 : 0
            }
            var marks = [Int](repeating: 0, count: bytes.count + 2)
            for start in 0...bytes.count where reachable[start] {
                let longest = min(run[start], item.maximum ?? Int.max)
                guard longest >= item.minimum else { continue }
                marks[start + item.minimum] += 1
                marks[start + longest + 1] -= 1
            }
            var open = 0
            for position in 0...bytes.count {
                open += marks[position]
                reachable[position] = open > 0
            }
        }
        return reachable[bytes.count]
    }

    /// A class's members up to its `]`: literal ASCII bytes and ranges, `-` first or last literal.
    private static func members(of bytes: inout ArraySlice<UInt8>) -> [Bool]? {
        var members = [Bool](repeating: false, count: 128)
        var any = false
        while let byte = bytes.popFirst() {
            if byte == UInt8(ascii: "]") { return any ? members : nil }
            guard byte < 0x80, byte != UInt8(ascii: "\\"), byte != UInt8(ascii: "["),
                !(byte == UInt8(ascii: "^") && !any)
            else { return nil }
            if bytes.count >= 2, bytes.first == UInt8(ascii: "-"), bytes[bytes.startIndex + 1] != UInt8(ascii: "]") {
                let upper = bytes[bytes.startIndex + 1]
                guard upper < 0x80, upper != UInt8(ascii: "\\"), upper != UInt8(ascii: "["), byte <= upper else { return nil }
                for member in byte...upper { members[Int(member)] = true }
                bytes = bytes.dropFirst(2)
            } else {
                members[Int(byte)] = true
            }
            any = true
        }
        return nil
    }

    /// `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}` or none (exactly one).
    private static func quantifier(of bytes: inout ArraySlice<UInt8>) -> (Int, Int?)? {
        switch bytes.first {
        case UInt8(ascii: "*"): bytes.removeFirst(); return (0, nil)
        case UInt8(ascii: "+"): bytes.removeFirst(); return (1, nil)
        case UInt8(ascii: "?"): bytes.removeFirst(); return (0, 1)
        case UInt8(ascii: "{"):
            guard let close = bytes.firstIndex(of: UInt8(ascii: "}")) else { return nil }
            let inside = String(decoding: bytes[(bytes.startIndex + 1)..<close], as: UTF8.self)
            bytes = bytes[(close + 1)...]
            let bounds = inside.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false)
            guard let minimum = Int(bounds[0]), minimum >= 0, bounds[0].allSatisfy(\.isASCII) else { return nil }
            if bounds.count == 1 { return (minimum, minimum) }
            if bounds[1].isEmpty { return (minimum, nil) }
            guard let maximum = Int(bounds[1]), maximum >= minimum, bounds[1].allSatisfy(\.isASCII) else { return nil }
            return (minimum, maximum)
        default: return (1, 1)
        }
    }
}
