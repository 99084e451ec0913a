import Foundation
import Postgres
import Testing

extension DatabaseTests {
    @Suite struct PoolTests {
        @Test func neverHoldsMoreServerConnectionsThanTheBound() async throws {
            let bound = 3
            let applicationName = TestEnvironment.uniqueName("pool_bound")
            try await TestEnvironment.withPool(maxConnections: bound, applicationName: applicationName) { pool in
                try await TestEnvironment.withPool(maxConnections: 1) { observer in
                    let gauge = Gauge()
                    let finished = Flag()
                    let borrowers = Task {
                        defer { finished.set() }
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            for _ in 0..<(bound + 1) * 2 {
                                group.addTask {
                                    try await pool.withConnection { connection in
                                        gauge.enter()
                                        defer { gauge.leave() }
                                        try await connection.query("SELECT pg_sleep(0.15)")
                                    }
                                }
                            }
                            try await group.waitForAll()
                        }
                    }
                    var serverPeak = 0
                    while !finished.isSet {
                        let rows = try await observer.query(
                            "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1", [applicationName])
                        serverPeak = max(serverPeak, try rows[0].decode("n", as: Int.self))
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    try await borrowers.value
                    #expect(gauge.peak == bound)
                    #expect(serverPeak >= 1)
                    #expect(serverPeak <= bound)
                    let after = try await observer.query(
                        "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1", [applicationName])
                    #expect(try after[0].decode("n", as: Int.self) <= bound)
                }
            }
        }

        @Test func waitingBorrowersAreServedInArrivalOrder() async throws {
            try await TestEnvironment.withPool(maxConnections: 1) { pool in
                let order = Recorder<Int>()
                let waiters = try await pool.withConnection { connection in
                    try await connection.query("SELECT 1")
                    var waiters: [Task<Void, any Error>] = []
                    for index in 0..<3 {
                        waiters.append(Task { try await pool.withConnection { _ in order.append(index) } })
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    return waiters
                }
                for waiter in waiters { try await waiter.value }
                #expect(order.all == [0, 1, 2])
            }
        }

        @Test func cancelledWaiterStopsWaitingAndLeaksNoSlot() async throws {
            try await TestEnvironment.withPool(maxConnections: 1) { pool in
                try await pool.withConnection { connection in
                    try await connection.query("SELECT 1")
                    let waiter = Task { try await pool.withConnection { _ in } }
                    try await Task.sleep(for: .milliseconds(100))
                    waiter.cancel()
                    await #expect(throws: CancellationError.self) { try await waiter.value }
                }
                try await pool.ping()
            }
        }

        @Test func cancellingATaskCancelsItsRunningStatement() async throws {
            try await TestEnvironment.withPool(maxConnections: 1) { pool in
                let started = ContinuousClock.now
                let sleeper = Task { try await pool.query("SELECT pg_sleep(30)") }
                try await Task.sleep(for: .milliseconds(200))
                sleeper.cancel()
                let error = await #expect(throws: PostgresError.self) { try await sleeper.value }
                #expect(error?.sqlState == "57014")  // query_canceled
                #expect(ContinuousClock.now - started < .seconds(10))
                try await pool.ping()
            }
        }

        @Test func closedPoolRefusesBorrowers() async throws {
            try await TestEnvironment.withPool(maxConnections: 1) { pool in
                try await pool.ping()
                pool.close()
                let error = await #expect(throws: PostgresError.self) { try await pool.ping() }
                #expect(error?.kind == .poolClosed)
            }
        }
    }
}
