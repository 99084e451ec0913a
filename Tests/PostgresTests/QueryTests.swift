import Foundation
import Postgres
import Testing

extension DatabaseTests {
    @Suite struct QueryTests {
        static let trickyStrings = [
            "it's", "'; DROP TABLE stage_runs; --", "\"double\" quotes and \\back\\slashes",
            "ünïcödé — 日本語 🚀", "$1 $2 ? %s", "", "  padded  ", "line\nbreak\ttab\r", "E'\\x00'",
        ]

        @Test(arguments: trickyStrings)
        func parameterRoundTripsUnchanged(_ text: String) async throws {
            try await TestEnvironment.withPool { pool in
                let rows = try await pool.query("SELECT $1::text AS value, char_length($1::text) AS length", [text])
                #expect(try rows[0].decode("value", as: String.self) == text)
                #expect(try rows[0].decode("length", as: Int.self) == text.unicodeScalars.count)
            }
        }

        /// A connection prepares each statement once (up to `LibPQConnection.maxPrepared` of them):
        /// the same text again, more texts than are kept, and transaction control all run as sent.
        @Test func statementsRunAlikePreparedOrNot() async throws {
            try await TestEnvironment.withPool { pool in
                try await pool.withConnection { connection in
                    for round in 0..<2 {
                        for number in 0..<150 {
                            let rows = try await connection.query("SELECT $1::int + \(number) AS value", [round])
                            #expect(try rows[0].decode("value", as: Int.self) == round + number)
                        }
                    }
                    try await connection.execute("BEGIN")
                    #expect(try await connection.query("SELECT 1 AS one")[0].decode("one", as: Int.self) == 1)
                    try await connection.execute("COMMIT")
                }
            }
        }

        @Test func trickyStringsAreStoredAsData() async throws {
            let table = TestEnvironment.uniqueName("t_strings")
            try await TestEnvironment.withPool { pool in
                try await pool.execute("CREATE TABLE \(table) (id int PRIMARY KEY, value text)")
                try await TestEnvironment.cleaningUp(pool, "DROP TABLE IF EXISTS \(table)") {
                    for (id, text) in Self.trickyStrings.enumerated() {
                        #expect(
                            try await pool.execute("INSERT INTO \(table) (id, value) VALUES ($1, $2)", [id, text]) == 1)
                    }
                    let rows = try await pool.query("SELECT value FROM \(table) ORDER BY id")
                    #expect(try rows.map { try $0.decode("value", as: String.self) } == Self.trickyStrings)
                }
            }
        }

        @Test func nilBindsNullAndNullDecodesAsNil() async throws {
            try await TestEnvironment.withPool { pool in
                let missing: Int? = nil
                let rows = try await pool.query(
                    "SELECT $1::text AS a, $2::int AS b, $1::text IS NULL AS a_is_null, $3::text AS c",
                    [nil, missing, Optional("present")])
                let row = rows[0]
                #expect(row["a"] == nil)
                #expect(try row.decode("a", as: String?.self) == nil)
                #expect(try row.decode("b", as: Int?.self) == nil)
                #expect(try row.decode("a_is_null", as: Bool.self))
                #expect(try row.decode("c", as: String?.self) == "present")
                let error = #expect(throws: PostgresError.self) { try row.decode("a", as: String.self) }
                #expect(error?.kind == .decoding)
            }
        }

        @Test func typedValuesRoundTrip() async throws {
            let id = UUID()
            let date = Date(timeIntervalSince1970: 1_700_000_000.123456)
            let bytes: [UInt8] = [0, 1, 0x7f, 0xfe, 0xff]
            try await TestEnvironment.withPool { pool in
                let rows = try await pool.query(
                    """
                    SELECT $1::uuid AS id, $2::int AS small, $3::bigint AS big, $4::bool AS yes, $5::bool AS no,
                           $6::float8 AS x, $7::timestamptz AS at, $8::bytea AS bytes, now() AS now
                    """, [id, 42, Int64.max, true, false, 3.25, date, bytes])
                let row = rows[0]
                #expect(rows.columns.first == "id")
                #expect(try row.decode("id", as: UUID.self) == id)
                #expect(try row.decode("small", as: Int.self) == 42)
                #expect(try row.decode(1, as: Int32.self) == 42)
                #expect(try row.decode("big", as: Int64.self) == Int64.max)
                #expect(try row.decode("yes", as: Bool.self) == true)
                #expect(try row.decode("no", as: Bool.self) == false)
                #expect(try row.decode("x", as: Double.self) == 3.25)
                #expect(abs(try row.decode("at", as: Date.self).timeIntervalSince(date)) < 0.000_001)
                #expect(try row.decode("bytes", as: [UInt8].self) == bytes)
                #expect(abs(try row.decode("now", as: Date.self).timeIntervalSinceNow) < 60)
            }
        }

        @Test func serverErrorsCarrySQLStateButNotTheValues() async throws {
            try await TestEnvironment.withPool { pool in
                let badInput = await #expect(throws: PostgresError.self) {
                    try await pool.query("SELECT $1::uuid", ["hunter2-is-my-password"])
                }
                #expect(badInput?.kind == .server)
                #expect(badInput?.sqlState == "22P02")
                #expect(badInput.map { "\($0)".contains("hunter2") } == false)

                let syntax = await #expect(throws: PostgresError.self) { try await pool.query("SELEC 1") }
                #expect(syntax?.sqlState == "42601")
                try await pool.ping()  // the connection that failed is still usable
            }
        }

        @Test func uniqueViolationNamesTheConstraint() async throws {
            let table = TestEnvironment.uniqueName("t_unique")
            try await TestEnvironment.withPool { pool in
                try await pool.execute("CREATE TABLE \(table) (name text PRIMARY KEY)")
                try await TestEnvironment.cleaningUp(pool, "DROP TABLE IF EXISTS \(table)") {
                    try await pool.execute("INSERT INTO \(table) VALUES ($1)", ["secret-name"])
                    let error = await #expect(throws: PostgresError.self) {
                        try await pool.execute("INSERT INTO \(table) VALUES ($1)", ["secret-name"])
                    }
                    #expect(error?.isUniqueViolation == true)
                    #expect(error?.constraint == "\(table)_pkey")
                    #expect(error.map { "\($0)".contains("secret-name") } == false)
                }
            }
        }

        @Test func nulBytesAreStoredAsReplacementCharacters() async throws {
            try await TestEnvironment.withPool { pool in
                let rows = try await pool.query("SELECT $1::text AS a, $2 AS b", ["a\u{0}b\u{0}", "\u{0}"])
                #expect(try rows[0].decode("a", as: String.self) == "a\u{FFFD}b\u{FFFD}")
                #expect(try rows[0].decode("b", as: String.self) == "\u{FFFD}")
            }
        }

        /// git's stderr with a NUL, recorded inside a JSON error: the 22P05 that left runs
        /// `running` for ever. Only an escape is replaced; an escaped backslash before "u0000"
        /// is text, and a text parameter keeps a literal `\u0000`.
        @Test(arguments: [
            (#"{"m":"corruption on the remote side.\u0000"}"#, "corruption on the remote side.\u{FFFD}"),
            (#"{"m":"a\\u0000b"}"#, #"a\u0000b"#),
            (#"{"m":"a\\\u0000b"}"#, "a\\\u{FFFD}b"),
            ("{\"m\":\"raw\u{0}nul\"}", "raw\u{FFFD}nul"),
            (#"{"m":"\"\u0041\u00e9"}"#, "\"A\u{E9}"),
        ])
        func jsonbParametersWithAnEscapedNULAreStored(json: String, message: String) async throws {
            try await TestEnvironment.withPool { pool in
                let rows = try await pool.query("SELECT $1::jsonb ->> 'm' AS m, $2::text AS t", [json, #"\u0000"#])
                #expect(try rows[0].decode("m", as: String.self) == message)
                #expect(try rows[0].decode("t", as: String.self) == #"\u0000"#)
            }
        }

        @Test func executeReportsAffectedRows() async throws {
            try await TestEnvironment.withPool { pool in
                let affected = try await pool.execute("SELECT * FROM generate_series(1, 3)")
                let rows = try await pool.query("SELECT * FROM generate_series(1, 3)")
                #expect(affected == 3)
                #expect(rows.count == 3)
            }
        }
    }
}
