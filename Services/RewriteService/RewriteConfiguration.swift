import ServiceKit

/// Settings of rewrite-service, read from the environment (see CommonConfiguration).
public struct RewriteConfiguration: Sendable {
    public static let defaultPort = 8082

    public var common: CommonConfiguration

    public init(common: CommonConfiguration) {
        self.common = common
    }

    public init(reading env: EnvironmentReader) throws {
        self.init(common: try CommonConfiguration(reading: env, defaultPort: Self.defaultPort, requiresDatabase: false))
    }
}
