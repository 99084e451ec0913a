import Postgres
import Testing

extension DatabaseTests {
    @Suite struct ListenerTests {
        @Test func deliversNotificationsForItsChannels() async throws {
            let channel = TestEnvironment.uniqueName("chan")
            let other = TestEnvironment.uniqueName("chan")
            let listener = try await PostgresListener(
                configuration: try TestEnvironment.configuration(), channels: [channel], logger: TestEnvironment.logger)
            defer { listener.stop() }
            try await TestEnvironment.withPool { pool in
                try await pool.notify(channel: other, payload: "not for us")
                try await pool.notify(channel: channel, payload: "hello 'world' ü")
                let notification = await first(of: listener.notifications, within: 10) { _ in true }
                #expect(notification?.channel == channel)
                #expect(notification?.payload == "hello 'world' ü")
            }
        }

        @Test func stopEndsTheStream() async throws {
            let listener = try await PostgresListener(
                configuration: try TestEnvironment.configuration(), channels: [TestEnvironment.uniqueName("chan")],
                logger: TestEnvironment.logger)
            listener.stop()
            for await _ in listener.notifications {}
        }

        @Test(.needsRestartCommand) func listensAgainAfterAServerRestart() async throws {
            let channel = TestEnvironment.uniqueName("chan")
            let listener = try await PostgresListener(
                configuration: try TestEnvironment.configuration(), channels: [channel], logger: TestEnvironment.logger)
            defer { listener.stop() }
            try await TestEnvironment.restartServer()
            try await TestEnvironment.withPool { pool in
                // Notifications sent before the listener is back are lost, so keep sending.
                let received = await withTaskGroup(of: Bool.self) { group in
                    group.addTask {
                        await first(of: listener.notifications, within: 20) { $0.payload == "after restart" } != nil
                    }
                    group.addTask {
                        for _ in 0..<100 {
                            _ = try? await pool.notify(channel: channel, payload: "after restart")
                            try? await Task.sleep(for: .milliseconds(200))
                        }
                        return false
                    }
                    let received = await group.next() ?? false
                    group.cancelAll()
                    return received
                }
                #expect(received)
            }
        }
    }
}
