import Dockerfile
import Testing

/// A text that is not a Dockerfile, the line the error must name, and words of its reason.
struct ErrorCase: Sendable, CustomTestStringConvertible {
    var name: String
    var input: String
    var line: Int
    var reason: String

    var testDescription: String { name }
}

let errorCases: [ErrorCase] = [
    ErrorCase(name: "unterminated heredoc", input: "FROM alpine\nRUN <<EOF\necho hi\n", line: 2, reason: "unterminated heredoc"),
    ErrorCase(
        name: "unterminated second heredoc", input: "FROM alpine\n\nCOPY <<A <<B /x\na\nA\nb\n", line: 3,
        reason: "<<B"),
    ErrorCase(
        name: "<<- only strips tabs", input: "FROM alpine\nCOPY <<-EOT /x\n  hello\n  EOT\n", line: 2,
        reason: "unterminated heredoc"),
    ErrorCase(
        name: "heredoc in ONBUILD", input: "FROM alpine\nONBUILD RUN <<EOF\ntrue\n", line: 2, reason: "unterminated heredoc"),
    ErrorCase(
        name: "exec-form JSON array not closed", input: "FROM alpine\nCMD [\"echo\",\n  \"hi\"]\n", line: 2,
        reason: "JSON array of CMD is not closed"),
    ErrorCase(
        name: "exec-form JSON array not closed, CRLF", input: "FROM alpine\r\n\r\nENTRYPOINT [\"a\",\r\n\"b\"]\r\n", line: 3,
        reason: "not closed"),
    ErrorCase(
        name: "JSON array with a number", input: "FROM alpine\nCMD [\"echo\", 1]\n", line: 2,
        reason: "arrays must be comprised of strings only"),
    ErrorCase(name: "unknown instruction", input: "FROM alpine\nFORM x\n", line: 2, reason: "unknown instruction: FORM"),
    ErrorCase(
        name: "unknown instruction after ONBUILD", input: "FROM alpine\nONBUILD FORM x\n", line: 2,
        reason: "unknown instruction after ONBUILD"),
    ErrorCase(name: "invalid escape directive", input: "# escape=x\nFROM alpine\n", line: 1, reason: "invalid escape token"),
    ErrorCase(
        name: "repeated directive", input: "# syntax=a\n# syntax=b\nFROM alpine\n", line: 2,
        reason: "only one syntax parser directive"),
    ErrorCase(name: "FROM with two arguments", input: "FROM alpine latest\n", line: 1, reason: "one or three arguments"),
]

@Suite("Not a Dockerfile")
struct DockerfileErrorTests {
    @Test(arguments: errorCases)
    func reportsLineAndReason(_ error: ErrorCase) throws {
        let proxies = try ProxyMap(parsing: "docker.io=proxy.test/hub")
        let thrown = #expect(throws: DockerfileError.self) {
            try DockerfileRewriter().rewrite(error.input, proxies: proxies)
        }
        #expect(thrown?.line == error.line)
        #expect(thrown?.reason.contains(error.reason) == true, "\(String(describing: thrown))")
        #expect(thrown?.description.hasPrefix("line \(error.line): ") == true)
    }

    @Test func singleLineUnclosedArrayIsAShellCommandAsInBuildKit() throws {
        // BuildKit runs `CMD ["echo", "x"` as a shell command; so does the rewrite (the corpus has one).
        let text = "FROM alpine\nCMD [\"echo\", \"x\"\n"
        let result = try DockerfileRewriter().rewrite(text, proxies: try ProxyMap(parsing: "docker.io=proxy.test/hub"))
        #expect(result.text == "FROM proxy.test/hub/library/alpine\nCMD [\"echo\", \"x\"\n")
    }
}
