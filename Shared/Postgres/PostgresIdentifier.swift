/// Names that must be spliced into SQL text because PostgreSQL takes no parameter there
/// (`LISTEN channel`, table names in DDL): only `[a-z_][a-z0-9_]*`, at most 63 bytes.
enum PostgresIdentifier {
    static func validated(_ name: String, as what: String) throws(PostgresError) -> String {
        let bytes = Array(name.utf8)
        let valid =
            !bytes.isEmpty && bytes.count <= 63
            && bytes.enumerated().allSatisfy { index, byte in
                byte == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (index > 0 && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte))
            }
        guard valid else {
            throw PostgresError(
                .invalidArgument, message: "invalid \(what) name (allowed: [a-z_][a-z0-9_]*, at most 63 bytes)")
        }
        return name
    }
}
