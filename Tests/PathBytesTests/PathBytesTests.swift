import PathBytes
import Testing

@Suite struct PathBytesTests {
    /// The key: Swift's `split` on Characters sees three segments and no `..`; the kernel sees eight.
    static let climbing = "p\u{0600}/../../\u{0301}\u{0600}/../../\u{0301}esc"

    @Test func splitsAtEverySlashByte() {
        #expect(Self.climbing.split(separator: "/").count == 3, "the Character split this replaces")
        #expect(Self.climbing.slashSegments().map(String.init) == ["p\u{0600}", "..", "..", "\u{0301}\u{0600}", "..", "..", "\u{0301}esc"])
        #expect(Self.climbing.hasDotDotSegment)
        #expect("a//b/".slashSegments().map(String.init) == ["a", "", "b", ""])
        #expect("a//b/".slashSegments(omittingEmpty: true).map(String.init) == ["a", "b"])
        #expect("it'\u{0301}s".parts(separatedBy: "'").map(String.init) == ["it", "\u{0301}s"])
    }

    @Test func comparesBytesNotCharacters() {
        #expect(!"/\u{0301}etc".hasPrefix("/"), "the Character check this replaces")
        #expect("/\u{0301}etc".bytesStart(with: "/"))
        #expect("x\u{0600}/".bytesEnd(with: "/") && !"x".bytesEnd(with: "x/"))
        #expect("a\u{0}\u{0301}".containsByte("\0"))
        #expect("a..\u{0301}b".containsBytes("..") && !"a.b".containsBytes(".."))
        // Canonically equivalent, different bytes: different file names.
        #expect("\u{E9}" == "e\u{0301}")
        #expect(!"\u{E9}".bytesEqual("e\u{0301}"))
        #expect(!"/r/\u{E9}/x".bytesStart(with: "/r/e\u{0301}/"))
        #expect(".".isDotSegment && "..".isDotSegment && !".\u{0301}".isDotSegment && !"...".isDotSegment)
    }

    @Test func dropsAndSlicesOnBytes() {
        #expect(String("/\u{0301}x".droppingFirstBytes()) == "\u{0301}x")
        #expect(String("a\u{0600}/".droppingLastBytes()) == "a\u{0600}")
        #expect("a/\u{0301}b/c".beforeLastSlash.map(String.init) == "a/\u{0301}b")
        #expect("a\u{0600}/b".beforeLastSlash.map(String.init) == "a\u{0600}")
        #expect("ab".beforeLastSlash == nil)
    }
}
