import Gateway
import Testing

@Suite struct BuildKeyTests {
    private func key(
        commit: String = "c0ffee", context: String = ".", dockerfile: String = "FROM a\n",
        args: [String: String] = ["A": "1", "B": "2"], target: String? = nil, builder: String = "buildah"
    ) -> String {
        BuildKey(commit: commit, contextPath: context, dockerfile: dockerfile, buildArgs: args, target: target, builder: builder)
            .value
    }

    @Test func equalInputsGiveEqualKeysWhateverTheArgOrder() {
        #expect(key() == key(args: ["B": "2", "A": "1"]))
        #expect(key().hasPrefix("sha256:") && key().count == 7 + 64)
    }

    @Test func everyInputChangesTheKey() {
        let keys = [
            key(), key(commit: "c0ffef"), key(context: "api"), key(dockerfile: "FROM b\n"), key(args: ["A": "1"]),
            key(args: ["A": "1", "B": "3"]), key(target: "runtime"), key(builder: "kaniko"),
        ]
        #expect(Set(keys).count == keys.count)
    }

    @Test func fieldsCannotBleedIntoEachOther() {
        // Without length prefixes these two would concatenate to the same text.
        #expect(key(args: ["A": "1\nvalue:1:2"]) != key(args: ["A": "1", "B": "2"]))
        #expect(key(commit: "ab", context: "c") != key(commit: "a", context: "bc"))
    }
}
