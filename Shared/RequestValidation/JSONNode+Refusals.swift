extension JSONNode {
    /// What no request member of ours may hold, whatever its schema says: a string with U+0000
    /// (PostgreSQL's text cannot store it) or a `null` (no request member is nullable in the
    /// specs, and a decoder reads a null as "absent").
    func forbiddenMember(at path: [String] = []) -> Violation? {
        let field = path.isEmpty ? "body" : path.joined(separator: ".")
        switch self {
        case .null:
            return Violation(
                field: field, keyword: "null", limit: "", problem: .invalidJSON,
                description: "\(field) must not be null: leave an optional member out")
        case .string(let text) where text.unicodeScalars.contains("\u{0}"):
            return Violation(
                field: field, keyword: "U+0000", limit: "", problem: .invalidJSON,
                description: "\(field): strings must not contain U+0000")
        case .array(let items):
            for (index, item) in items.enumerated() {
                if let found = item.forbiddenMember(at: path + ["\(index)"]) { return found }
            }
        case .object(let members):
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                if let found = member.forbiddenMember(at: path + [name]) { return found }
            }
        case .bool, .number, .string: break
        }
        return nil
    }
}
