import ServiceKit

/// Settings of gateway, read from the environment (see CommonConfiguration).
public struct GatewayConfiguration: Sendable {
    public static let defaultPort = 8080

    public var common: CommonConfiguration

    public init(common: CommonConfiguration) {
        self.common = common
    }

    public init(reading env: EnvironmentReader) throws {
        self.init(common: try CommonConfiguration(reading: env, defaultPort: Self.defaultPort, requiresDatabase: true))
    }
}
