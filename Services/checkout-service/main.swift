import CheckoutService
import ServiceKit

await ServiceMain.run(
    "checkout-service",
    configuration: CheckoutConfiguration.init(reading:),
    common: { $0.common },
    application: { configuration, registry in try await buildApplication(configuration: configuration, registry: registry) })
