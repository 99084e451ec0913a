import ServiceKit
import Testing

@Suite struct EnvironmentReaderTests {
    @Test func readsTypedValuesWithDefaults() throws {
        let env = EnvironmentReader(["PORT": "9000", "FLAG": "yes", "WAIT": "5m", "QUICK": "250ms", "EMPTY": ""])
        #expect(try env.int("PORT", default: 1, in: 0...65535) == 9000)
        #expect(try env.int("MISSING", default: 7) == 7)
        #expect(try env.bool("FLAG", default: false))
        #expect(try env.duration("WAIT", default: .seconds(1)) == .seconds(300))
        #expect(try env.duration("QUICK", default: .seconds(1)) == .milliseconds(250))
        #expect(env.string("EMPTY") == nil)
    }

    @Test func namesTheVariableThatIsMissingOrInvalid() {
        let env = EnvironmentReader(["PORT": "eighty"])
        #expect(throws: ConfigurationError.self) { try env.int("PORT", default: 1) }
        do {
            _ = try CommonConfiguration(reading: EnvironmentReader([:]), defaultPort: 1, requiresDatabase: false)
            Issue.record("expected a configuration error")
        } catch {
            #expect(error.description.contains("API_TOKEN"))
        }
        let withToken = EnvironmentReader(["API_TOKEN": "t", "PORT": "70000"])
        do {
            _ = try CommonConfiguration(reading: withToken, defaultPort: 1, requiresDatabase: false)
            Issue.record("expected a configuration error")
        } catch {
            #expect(error.description.contains("PORT"))
            #expect(error.description.contains("70000"))
        }
    }

    @Test func requiresTheDatabaseWhereTheServiceRecordsRuns() {
        let env = EnvironmentReader(["API_TOKEN": "t"])
        #expect(throws: ConfigurationError.self) {
            try CommonConfiguration(reading: env, defaultPort: 1, requiresDatabase: true)
        }
    }

    @Test func secretsNeverPrintTheirValue() {
        let secret = Secret("hunter2")
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
    }
}
