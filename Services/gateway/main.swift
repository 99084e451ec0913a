import Gateway
import ServiceKit

await ServiceMain.run(
    "gateway",
    configuration: GatewayConfiguration.init(reading:),
    common: { $0.common },
    application: { configuration, registry in try await buildApplication(configuration: configuration, registry: registry) })
