import Foundation
import Migrations
import Postgres
@testable import Records
import Testing

/// Submits that arrive together are recorded in one statement (group commit), each job still
/// whole and alone in its outcome.
extension DatabaseTests.JobStoreTests {
    private static func request(_ index: Int) -> String { #"{"workload":"w","service":"s\#(index)"}"# }

    @Test func submitsArrivingTogetherShareStatementsAndEachIsRecordedWhole() async throws {
        try await withStore { store, pool in
            let count = 60
            let created = try await withThrowingTaskGroup(of: (Int, JobWithStages).self) { group in
                for index in 0..<count {
                    group.addTask {
                        let stages: [StageName] = index % 2 == 0 ? [.checkout, .rewrite, .build] : [.checkout, .rewrite, .build, .push]
                        return (index, try await store.createWithStages(
                            workload: "w", service: "s\(index)", request: Self.request(index), stages: stages,
                            dryRun: index % 3 == 0))
                    }
                }
                return try await group.reduce(into: [Int: JobWithStages]()) { $0[$1.0] = $1.1 }
            }
            #expect(created.count == count)
            for (index, answer) in created {
                // Each caller got its own job back, as the database holds it.
                #expect(answer.job.service == "s\(index)")
                #expect(answer.stages.count == (index % 2 == 0 ? 3 : 4))
                #expect(answer.job.state == (index % 3 == 0 ? .cancelled : .queued))
                #expect(try await store.jobWithStages(answer.job.id) == answer)
                let events = try await store.events(of: answer.job.id).map(\.message)
                #expect(events == (index % 3 == 0 ? ["queued", "cancelled"] : ["queued"]))
            }
            #expect(try await pool.query("SELECT count(*) FROM jobs").first?.decode(0, as: Int.self) == count)
            // now() is the transaction's start: jobs written by one statement share it.
            let statements = try await pool.query("SELECT count(DISTINCT created_at) FROM jobs").first?.decode(0, as: Int.self)
            #expect(try #require(statements) < count, "\(statements ?? 0) statements for \(count) jobs")
        }
    }

    @Test func aJobTheDatabaseRefusesFailsAloneInItsBatch() async throws {
        try await withStore { store, pool in
            let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
                for index in 0..<30 {
                    group.addTask {
                        // Not JSON: the jsonb column refuses it, as a statement of its own would.
                        let request = index == 17 ? "not json" : Self.request(index)
                        let created = try? await store.createWithStages(
                            workload: "w", service: "s\(index)", request: request, stages: [.checkout])
                        return (index, created != nil)
                    }
                }
                return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
            }
            #expect(outcomes.filter { !$0.value }.map(\.key) == [17])
            let jobs = try await pool.query("SELECT count(*) FROM jobs").first?.decode(0, as: Int.self)
            let stages = try await pool.query("SELECT count(*) FROM job_stages").first?.decode(0, as: Int.self)
            #expect(jobs == 29 && stages == 29)
        }
    }

    @Test func textsNeedingQuotesGoThroughTheArraysAsTheyAre() async throws {
        try await withStore { store, _ in
            let workload = #"a"b\c,{d} NULL 'e' ü😀"#
            let request = #"{"workload":"a\"b\\c","note":"{x,y} \u00fc NULL"}"#
            let created = try await store.createWithStages(
                workload: workload, service: "NULL", request: request, stages: [.checkout])
            let read = try #require(try await store.job(created.job.id))
            #expect(read.workload == workload && read.service == "NULL")
            let stored = try JSONSerialization.jsonObject(with: Data(read.request.utf8)) as? [String: String]
            #expect(stored == ["workload": #"a"b\c"#, "note": "{x,y} ü NULL"])
            #expect(JobCreationBatch.arrayLiteral([nil, "", #"\""#]) == #"{NULL,"","\\\""}"#)
        }
    }
}
