import Foundation
import Postgres
import Synchronization

/// A job to record: its row, its pending stages and the events of its states.
struct JobCreation: Sendable {
    var id: UUID
    var workload: String
    var service: String
    /// The request as recorded (JSON text).
    var request: String
    /// The states its events record, in order; the job is in the last one.
    var states: [JobState]
    /// The job's error (JSON text), for a job recorded as ended.
    var error: String?
    var stages: [StageName]
}

/// Group commit for submits. A statement's commit waits for PostgreSQL's WAL flush, and a
/// submit's rows cost PostgreSQL less than the statement around them: pgbench on this machine
/// wrote 2,465 jobs/s one job a statement and 10,977 jobs/s eight a statement (4 clients each).
/// So a submit that arrives while `concurrentStatements` are being written waits, and every
/// submit waiting when a statement ends goes in the next one. A lone submit goes at once: no
/// timer, no added wait when the database is idle. Each job is still all or nothing: a
/// statement PostgreSQL refuses (not for a transient failure: the database away or busy) is
/// tried again a job at a time, so one bad request fails alone. Batches after the first are written by detached
/// tasks: their statement belongs to no one request (nor to its task-locals).
final class JobCreationBatch: Sendable {
    static let concurrentStatements = 2
    static let largestBatch = 64

    private struct Waiting {
        let creation: JobCreation
        let continuation: CheckedContinuation<JobWithStages, any Error>
    }

    private struct State {
        var waiting: [Waiting] = []
        var writing = 0

        /// The next batch, keeping the statement slot; nil (and the slot freed) when none waits.
        mutating func next() -> [Waiting]? {
            guard !waiting.isEmpty else {
                writing -= 1
                return nil
            }
            let batch = Array(waiting.prefix(JobCreationBatch.largestBatch))
            waiting.removeFirst(batch.count)
            return batch
        }
    }

    private let pool: PostgresPool
    private let state = Mutex(State())

    init(pool: PostgresPool) {
        self.pool = pool
    }

    func create(_ creation: JobCreation) async throws -> JobWithStages {
        let leads = state.withLock { state in
            guard state.writing < Self.concurrentStatements, state.waiting.isEmpty else { return false }
            state.writing += 1
            return true
        }
        if leads {
            let outcome = await outcomes(of: [creation])[0]
            if let next = state.withLock({ $0.next() }) { Task.detached { await self.write(next) } }
            return try outcome.get()
        }
        return try await withCheckedThrowingContinuation { continuation in
            // Queued and the slot checked under one lock: a statement that ends meanwhile takes it.
            let batch = state.withLock { state -> [Waiting]? in
                state.waiting.append(Waiting(creation: creation, continuation: continuation))
                guard state.writing < Self.concurrentStatements else { return nil }
                state.writing += 1
                return state.next()
            }
            if let batch { Task.detached { await self.write(batch) } }
        }
    }

    private func write(_ first: [Waiting]) async {
        var batch = first
        while true {
            for (waiting, outcome) in zip(batch, await outcomes(of: batch.map(\.creation))) {
                waiting.continuation.resume(with: outcome)
            }
            guard let next = state.withLock({ $0.next() }) else { return }
            batch = next
        }
    }

    private func outcomes(of creations: [JobCreation]) async -> [Result<JobWithStages, any Error>] {
        do {
            let created = try await pool.withConnection { try await Self.insert(creations, on: $0) }
            return created.map { .success($0) }
        } catch let error as PostgresError where creations.count > 1 && error.kind == .server && !error.isTransient {
            var outcomes: [Result<JobWithStages, any Error>] = []
            for creation in creations { outcomes.append(await self.outcomes(of: [creation])[0]) }
            return outcomes
        } catch {
            return creations.map { _ in .failure(error) }
        }
    }

    /// The jobs, their stages and their state events in one statement, answered in the order given.
    /// The database answers a row a job with what only it knows (the time, and the request and
    /// error as jsonb stored them); the rest of each job and its stages are what was inserted.
    static func insert(_ creations: [JobCreation], on connection: PostgresConnection) async throws -> [JobWithStages] {
        let rows = try await connection.query(statement, [
            arrayLiteral(creations.map(\.id.uuidString)),
            arrayLiteral(creations.map(\.workload)),
            arrayLiteral(creations.map(\.service)),
            arrayLiteral(creations.map(\.request)),
            arrayLiteral(creations.map { $0.states.map(\.rawValue).joined(separator: ",") }),
            arrayLiteral(creations.map(\.error)),
            arrayLiteral(creations.map { $0.stages.map(\.rawValue).joined(separator: ",") }),
        ])
        guard rows.count == creations.count else {
            throw PostgresError(.decoding, message: "the recorded jobs came back other than as sent")
        }
        return try zip(creations, rows).map { creation, row in
            guard try row.decode("id", as: UUID.self) == creation.id, let state = creation.states.last else {
                throw PostgresError(.decoding, message: "the recorded jobs came back other than as sent")
            }
            let createdAt: Date = try row.decode("created_at")
            let job = Job(
                id: creation.id, workload: creation.workload, service: creation.service, state: state,
                request: try row.decode("request"), result: nil, error: try row.decode("error"), attempt: 1,
                createdAt: createdAt, startedAt: nil, finishedAt: state == .queued ? nil : createdAt, leaseOwner: nil,
                leaseExpiresAt: nil, buildKey: nil, reusedFrom: nil, cancelRequested: false, deadlineAt: nil)
            let stages = creation.stages.enumerated().map { position, name in
                JobStage(
                    jobID: creation.id, position: position, name: name, status: .pending, attempt: 0, runID: nil,
                    runEventsSeen: 0, startedAt: nil, finishedAt: nil, result: nil, error: nil)
            }
            return JobWithStages(job: job, stages: stages)
        }
    }

    /// It sends no NOTIFY, unlike later events: nobody can follow a job before this statement has
    /// returned its id, and a notifying commit takes PostgreSQL's global notify lock across its
    /// WAL flush, which serialised every submit (pgbench: 2,235 single-row inserts/s, 297/s with
    /// a pg_notify beside each). Parameters are arrays, an element a job; $5 and $7 hold a job's
    /// states and stages comma-separated (the job is in its last state). The rows `insert` builds
    /// are the columns' defaults (`created_at` and `finished_at` are both the transaction's
    /// `now()`); answering whole rows, the stages' joined, cost PostgreSQL a third more a batch
    /// (pgbench, eight jobs a statement: 1,154-1,247 statements/s against 1,745-1,922).
    private static let statement = """
        WITH given AS (
            SELECT *, string_to_array(states, ',') AS events
            FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
                WITH ORDINALITY AS i (id, workload, service, request, states, error, stages, ord)
        ), input AS (
            SELECT *, events[cardinality(events)] AS state FROM given
        ), job AS (
            INSERT INTO jobs (id, workload, service, state, request, attempt, event_seq, finished_at, error)
            SELECT id, workload, service, state, request::jsonb, 1, cardinality(events),
                   CASE WHEN state = 'queued' THEN NULL ELSE now() END, error::jsonb
            FROM input ORDER BY ord
            RETURNING id, created_at, request, error
        ), stages AS (
            INSERT INTO job_stages (job_id, position, name, status)
            SELECT i.id, s.position - 1, s.name, 'pending'
            FROM input i, unnest(string_to_array(i.stages, ',')) WITH ORDINALITY AS s (name, position)
        ), events AS (
            INSERT INTO job_events (job_id, seq, kind, message)
            SELECT i.id, e.seq, 'state', e.state
            FROM input i, unnest(i.events) WITH ORDINALITY AS e (state, seq)
        )
        SELECT j.id, j.created_at, j.request, j.error FROM job j JOIN input i ON i.id = j.id ORDER BY i.ord
        """

    /// A PostgreSQL array literal of any texts (nil as NULL): each element quoted, `\` and `"`
    /// escaped. Written as UTF-8 bytes: no byte of a multi-byte character is either, and a
    /// scalar at a time into a `String` was a fiftieth of a submit's CPU.
    static func arrayLiteral(_ elements: [String?]) -> String {
        let backslash = UInt8(ascii: "\\"), quote = UInt8(ascii: "\"")
        var bytes: [UInt8] = []
        bytes.reserveCapacity(elements.reduce(2) { $0 + ($1?.utf8.count ?? 4) + 3 })
        bytes.append(UInt8(ascii: "{"))
        for (index, element) in elements.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            guard let element else {
                bytes.append(contentsOf: "NULL".utf8)
                continue
            }
            bytes.append(quote)
            for byte in element.utf8 {
                if byte == backslash || byte == quote { bytes.append(backslash) }
                bytes.append(byte)
            }
            bytes.append(quote)
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }
}
