/// The rows a statement returned, fully read into memory, in text format.
public struct PostgresRows: Sendable, RandomAccessCollection {
    public let columns: [String]
    /// Rows inserted, updated, deleted… as the server reports (0 when it reports none).
    public let affectedRows: Int
    private let columnIndex: [String: Int]
    private let values: [[String?]]

    init(columns: [String], values: [[String?]], affectedRows: Int) {
        self.columns = columns
        self.values = values
        self.affectedRows = affectedRows
        // With duplicate names, the first column wins, as in most drivers.
        self.columnIndex = Dictionary(columns.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public var startIndex: Int { values.startIndex }
    public var endIndex: Int { values.endIndex }

    public subscript(position: Int) -> PostgresRow {
        PostgresRow(columns: columns, columnIndex: columnIndex, values: values[position])
    }
}

/// One row: column access by index or name, typed decoding with `decode(_:as:)`.
public struct PostgresRow: Sendable {
    public let columns: [String]
    private let columnIndex: [String: Int]
    private let values: [String?]

    init(columns: [String], columnIndex: [String: Int], values: [String?]) {
        self.columns = columns
        self.columnIndex = columnIndex
        self.values = values
    }

    /// The raw text of column `index`, nil for NULL.
    public subscript(index: Int) -> String? { values[index] }

    /// The raw text of the named column, nil for NULL or an unknown column.
    public subscript(column: String) -> String? {
        columnIndex[column].flatMap { values[$0] }
    }

    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws(PostgresError) -> T {
        guard let value = try decode(column, as: T?.self) else {
            throw PostgresError(.decoding, message: "column \"\(column)\" is NULL, expected \(T.self)", column: column)
        }
        return value
    }

    public func decode<T: PostgresDecodable>(_ column: String, as type: T?.Type = T?.self) throws(PostgresError) -> T? {
        guard let index = columnIndex[column] else {
            throw PostgresError(.decoding, message: "no column \"\(column)\" in the result", column: column)
        }
        return try decode(index, name: column, as: T.self)
    }

    public func decode<T: PostgresDecodable>(_ index: Int, as type: T.Type = T.self) throws(PostgresError) -> T {
        guard let value = try decode(index, as: T?.self) else {
            throw PostgresError(.decoding, message: "column \(index) is NULL, expected \(T.self)")
        }
        return value
    }

    public func decode<T: PostgresDecodable>(_ index: Int, as type: T?.Type = T?.self) throws(PostgresError) -> T? {
        guard values.indices.contains(index) else {
            throw PostgresError(.decoding, message: "no column \(index) in the result")
        }
        return try decode(index, name: columns[index], as: T.self)
    }

    private func decode<T: PostgresDecodable>(_ index: Int, name: String, as type: T.Type) throws(PostgresError) -> T? {
        guard let text = values[index] else { return nil }
        guard let value = T(postgresText: text) else {
            // The text itself stays out of the error: it may be a secret.
            throw PostgresError(.decoding, message: "column \"\(name)\" cannot be decoded as \(T.self)", column: name)
        }
        return value
    }
}
