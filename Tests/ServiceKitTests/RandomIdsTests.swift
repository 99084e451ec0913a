import Foundation
import ServiceKit
import Testing

@Suite struct RandomIdsTests {
    /// Fresh trace contexts are valid `traceparent` headers (no all-zero ids) and never repeat.
    @Test func tracesAreValidAndDistinct() throws {
        var seen = Set<String>()
        for _ in 0..<1_000 {
            let trace = TraceParent.random().child()
            let parsed = try #require(TraceParent(header: trace.header))
            #expect(parsed == trace && trace.traceID.utf8.count == 32 && trace.spanID.utf8.count == 16)
            seen.insert(trace.traceID)
        }
        #expect(seen.count == 1_000)
    }

    /// Random UUIDs are version 4, RFC 4122 variant, and never repeat.
    @Test func uuidsAreVersion4AndDistinct() {
        var seen = Set<UUID>()
        for _ in 0..<1_000 {
            let id = UUID.random()
            #expect(id.uuid.6 >> 4 == 4 && id.uuid.8 >> 6 == 0b10)
            seen.insert(id)
        }
        #expect(seen.count == 1_000)
    }
}
