import ArgumentParser
import GatewayAPI
import Testing

@testable import BuildchainCLI

@Suite struct CLIEnvironmentTests {
    static let required = [
        "--repo", "https://git.example/app.git", "--ref", "main", "--workload", "w", "--service", "s",
    ]

    @Test func defaultsLeaveCacheAndMirrorsOn() throws {
        let environment = try CLIEnvironment([:])
        #expect(environment.cache && environment.mirrors)
        #expect(environment.gatewayURL == nil && environment.token == nil)
    }

    @Test(arguments: ["false", "FALSE", "0", "no", "off"])
    func offValuesTurnTheSwitchesOff(value: String) throws {
        let environment = try CLIEnvironment(["BUILDCHAIN_CACHE": value, "BUILDCHAIN_MIRRORS": value])
        #expect(!environment.cache && !environment.mirrors)
    }

    @Test(arguments: ["true", "1", "yes", "on", ""])
    func onValuesKeepTheSwitchesOn(value: String) throws {
        #expect(try CLIEnvironment(["BUILDCHAIN_CACHE": value]).cache)
    }

    @Test func anUnreadableSwitchIsAUsageErrorNamingTheVariable() {
        do {
            _ = try CLIEnvironment(["BUILDCHAIN_MIRRORS": "maybe"])
            Issue.record("reading should fail")
        } catch let error as CLIError {
            #expect(error.exitStatus == 2)
            #expect(error.message.contains("BUILDCHAIN_MIRRORS"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func emptyURLAndTokenCountAsUnset() throws {
        let environment = try CLIEnvironment(["BUILDCHAIN_URL": " ", "BUILDCHAIN_TOKEN": ""])
        #expect(environment.gatewayURL == nil && environment.token == nil)
    }

    @Test(arguments: [
        ([String](), [String: String](), true, true),
        (["--no-cache"], [:], false, true),
        (["--no-mirrors"], [:], true, false),
        ([], ["BUILDCHAIN_CACHE": "false"], false, true),
        ([], ["BUILDCHAIN_MIRRORS": "false"], true, false),
        (["--no-cache"], ["BUILDCHAIN_CACHE": "true"], false, true),
        (["--no-cache", "--no-mirrors"], ["BUILDCHAIN_CACHE": "false", "BUILDCHAIN_MIRRORS": "false"], false, false),
    ])
    func anOffSwitchWinsWhetherFlagOrEnvironment(
        flags: [String], variables: [String: String], cache: Bool, mirrors: Bool
    ) throws {
        let submission = try BuildCommand.parse(Self.required + flags).submission(CLIEnvironment(variables))
        #expect(submission.cache == cache)
        #expect(submission.mirrors == mirrors)
    }
}
