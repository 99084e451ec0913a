import ArgumentParser
import GatewayAPI
import Testing

@testable import BuildchainCLI

@Suite struct BuildArgumentTests {
    static let required = [
        "--repo", "https://git.example/app.git", "--ref", "main", "--workload", "w", "--service", "s",
    ]

    @Test(arguments: [
        ("VERSION=1.2", "VERSION", "1.2"),
        ("EMPTY=", "EMPTY", ""),
        ("URL=http://x/?a=b", "URL", "http://x/?a=b"),
    ])
    func parsesNameAndValueAtTheFirstEquals(text: String, name: String, value: String) throws {
        #expect(try BuildArgument(parsing: text) == BuildArgument(name: name, value: value))
    }

    @Test(arguments: ["NOEQUALS", "=value", "HAS SPACE=1", ""])
    func rejectsArgumentsWithoutName(text: String) {
        #expect(throws: BuildArgument.Invalid.self) { try BuildArgument(parsing: text) }
    }

    @Test func anArgumentWithoutEqualsIsAUsageError() {
        do {
            _ = try Buildchain.parseAsRoot(["build"] + Self.required + ["--build-arg", "FOO"])
            Issue.record("parsing should fail")
        } catch {
            #expect(Buildchain.exitStatus(for: error) == 2)
        }
    }

    @Test func repeatedArgumentsBecomeTheRequestMapWithTheLastValueWinning() throws {
        let command = try BuildCommand.parse(
            Self.required + ["--build-arg", "A=1", "--build-arg", "B=2", "--build-arg", "A=3"])
        let submission = command.submission(try CLIEnvironment([:]))
        #expect(submission.buildArgs?.additionalProperties == ["A": "3", "B": "2"])
    }

    @Test func missingRequiredOptionsAreAUsageError() {
        do {
            _ = try Buildchain.parseAsRoot(["build", "--repo", "x"])
            Issue.record("parsing should fail")
        } catch {
            #expect(Buildchain.exitStatus(for: error) == 2)
        }
    }
}
