import Foundation
import GitCheckout
import Testing

@Suite struct DockerIgnoreTests {
    static let tree = [
        "Dockerfile", "README.md", "main.go", "docs/guide.md", "docs/api/index.md", "src/app.go", "src/app_test.go",
        "src/vendor/lib.go", "build/out.bin", "build/keep/me.txt", "node_modules/pkg/index.js",
        "deep/a/b/c/secret.key", "secret.key", "temp1.txt", "tempX.txt",
    ]
    static let everything = [
        ".dockerignore", "Dockerfile", "README.md", "build", "build/keep", "build/keep/me.txt", "build/out.bin", "deep",
        "deep/a", "deep/a/b", "deep/a/b/c", "deep/a/b/c/secret.key", "docs", "docs/api", "docs/api/index.md",
        "docs/guide.md", "main.go", "node_modules", "node_modules/pkg", "node_modules/pkg/index.js", "secret.key",
        "src",
        "src/app.go", "src/app_test.go", "src/vendor", "src/vendor/lib.go", "temp1.txt", "tempX.txt",
    ]

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let ignore: String
        let excluded: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "no patterns", ignore: "", excluded: []),
        Case(name: "** matches any depth", ignore: "**/*.key", excluded: ["deep/a/b/c/secret.key", "secret.key"]),
        Case(
            name: "an excluded folder takes its contents", ignore: "node_modules",
            excluded: ["node_modules", "node_modules/pkg", "node_modules/pkg/index.js"]),
        Case(name: "! re-includes below an excluded folder", ignore: "build\n!build/keep", excluded: ["build/out.bin"]),
        Case(
            name: "a leading / is the context root", ignore: "/docs",
            excluded: ["docs", "docs/api", "docs/api/index.md", "docs/guide.md"]),
        Case(name: "a leading / on a deeper path", ignore: "/docs/api", excluded: ["docs/api", "docs/api/index.md"]),
        Case(name: "* stays within one folder", ignore: "*.md", excluded: ["README.md"]),
        Case(name: "** in the middle", ignore: "docs/**/*.md", excluded: ["docs/api/index.md", "docs/guide.md"]),
        Case(name: "? is one character", ignore: "temp?.txt", excluded: ["temp1.txt", "tempX.txt"]),
        Case(name: "character classes", ignore: "temp[0-9].txt", excluded: ["temp1.txt"]),
        Case(name: "Dockerfile and .dockerignore are always kept", ignore: "Dockerfile\n.dockerignore", excluded: []),
        Case(
            name: "everything but the build files", ignore: "*",
            excluded: everything.filter { $0 != "Dockerfile" && $0 != ".dockerignore" }),
        Case(
            name: "an exception deep inside an excluded folder", ignore: "src\n!src/vendor/**",
            excluded: ["src/app.go", "src/app_test.go"]),
        Case(name: "the last matching pattern wins", ignore: "*.md\n!README.md", excluded: []),
        Case(name: "exception before the pattern does nothing", ignore: "!README.md\n*.md", excluded: ["README.md"]),
        Case(name: "comments and surrounding space", ignore: "# main.go\n   main.go   \n\n", excluded: ["main.go"]),
        Case(
            name: "cleaned patterns", ignore: "./src/../main.go\ndocs//api/",
            excluded: ["main.go", "docs/api", "docs/api/index.md"]),
        Case(
            name: "** alone with an exception", ignore: "**\n!src",
            excluded: everything.filter {
                !["Dockerfile", ".dockerignore"].contains($0) && $0 != "src" && !$0.hasPrefix("src/")
            }),
    ]

    @Test(arguments: cases)
    func keepsWhatDockerKeeps(_ testCase: Case) throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let context = "\(fixture.root)/context"
        for path in Self.tree + [".dockerignore"] {
            let full = "\(context)/\(path)"
            try FileManager.default.createDirectory(
                atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data((path == ".dockerignore" ? testCase.ignore : path).utf8).write(to: URL(fileURLWithPath: full))
        }
        let ignore = try ContextPacker.dockerIgnore(in: context)
        let kept = try ContextPacker().selectEntries(in: context, dockerfile: "Dockerfile", ignore: ignore)
        #expect(kept == Self.everything.filter { !testCase.excluded.contains($0) })
    }

    @Test(arguments: [
        ("**foo", "barfoo", true), ("**/foo", "foo", true), ("**/foo", "a/b/foo", true), ("**/foo", "afoo", false),
        ("foo/**", "foo/x/y", true), ("a/**/b", "a/b", true), ("a/**/b", "a/x/y/b", true), ("a/**/b", "ab", false),
        ("*.go", "x/y.go", false), ("*/*.go", "x/y.go", true), ("[a-c]at", "bat", true), ("[^a-c]at", "bat", false),
        ("[^a-c]at", "rat", true), (#"a\*b"#, "a*b", true), (#"a\*b"#, "axb", false), ("dir", "dir/sub/file", true),
        ("d?r", "d/r", false), ("a.b", "axb", false), ("(x)", "(x)", true), ("x{1}", "x{1}", true),
        // Go compares bytes: "/" before a combining mark, or after a prepended mark, is still a separator.
        ("**/secret", "\u{0600}/secret", true), ("x\u{0600}", "x\u{0600}/secret", true), ("a", "a/\u{0301}b", true),
        ("**/\u{0301}b", "a/\u{0301}b", true),
    ])
    func matchesPatternsLikeMoby(_ pattern: String, _ path: String, _ excluded: Bool) throws {
        #expect(try DockerIgnore(patterns: [pattern]).excludes(path) == excluded)
    }

    /// Lines end at "\n" bytes ("\r\n" is one Character to Swift); "#", "!" and a leading "/" are
    /// bytes even when a combining mark follows them.
    @Test func readsTheFileAsBytes() throws {
        let crlf = try DockerIgnore(contents: "secret\r\n*.key\r\n")
        #expect(crlf.excludes("secret") && crlf.excludes("a.key") && !crlf.excludes("other"))
        let marks = try DockerIgnore(contents: "*\n!\u{0301}keep\n/\u{0301}x\n#\u{0301} comment")
        #expect(!marks.excludes("\u{0301}keep"))
        #expect(marks.patterns == ["*", "!\u{0301}keep", "\u{0301}x"])
    }

    @Test(arguments: ["!", "[", "a[]", "[a-]", #"trailing\"#, "x[z-a]"])
    func refusesPatternsDockerRefuses(_ pattern: String) {
        #expect(throws: CheckoutError.self) { try DockerIgnore(contents: pattern) }
    }

    @Test func keepsADockerfileInsideAnExcludedFolder() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let context = "\(fixture.root)/context"
        for path in ["docker/Dockerfile", "docker/notes.txt", "app.txt"] {
            try FileManager.default.createDirectory(
                atPath: ("\(context)/\(path)" as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(path.utf8).write(to: URL(fileURLWithPath: "\(context)/\(path)"))
        }
        let kept = try ContextPacker().selectEntries(
            in: context, dockerfile: "docker/Dockerfile", ignore: try DockerIgnore(patterns: ["docker"]))
        #expect(kept == ["app.txt", "docker", "docker/Dockerfile"])
    }

    @Test func keepsSymlinksAsLinksAndLeavesGitMetadataOut() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let context = "\(fixture.root)/context"
        try FileManager.default.createDirectory(atPath: "\(context)/sub", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: "\(context)/Dockerfile"))
        try Data("gitdir: elsewhere".utf8).write(to: URL(fileURLWithPath: "\(context)/sub/.git"))
        try FileManager.default.createSymbolicLink(atPath: "\(context)/etc", withDestinationPath: "/etc")
        let kept = try ContextPacker().selectEntries(
            in: context, dockerfile: "Dockerfile", ignore: try DockerIgnore(patterns: []))
        #expect(kept == ["Dockerfile", "etc", "sub"])
    }

    @Test func refusesADockerignoreLinkedOutOfTheContext() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let context = "\(fixture.root)/context"
        try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: "\(context)/.dockerignore", withDestinationPath: "/etc/passwd")
        #expect(throws: CheckoutError.pathOutsideRepository(field: ".dockerignore", path: ".dockerignore")) {
            try ContextPacker.dockerIgnore(in: context)
        }
    }
}
