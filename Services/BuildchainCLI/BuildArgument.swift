/// One `--build-arg NAME=VALUE`. The value may be empty or hold further `=`.
struct BuildArgument: Sendable, Equatable {
    var name: String
    var value: String

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Parses `NAME=VALUE`; throws when there is no `=` or no name.
    init(parsing text: String) throws {
        guard let equals = text.firstIndex(of: "=") else {
            throw Invalid(description: "expected NAME=VALUE")
        }
        let name = String(text[..<equals])
        guard !name.isEmpty, !name.contains(where: \.isWhitespace) else {
            throw Invalid(description: "the name before '=' must be non-empty and without spaces")
        }
        self.init(name: name, value: String(text[text.index(after: equals)...]))
    }

    /// The arguments as the request's map; a name given twice keeps its last value.
    static func dictionary(_ arguments: [BuildArgument]) -> [String: String]? {
        guard !arguments.isEmpty else { return nil }
        return Dictionary(arguments.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
    }
}
