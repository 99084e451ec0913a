import GatewayAPI

/// What `POST /v1/builds` asks for, as recorded on the job (secret values as `***`, see
/// `BuildSecrets.recorded`) and read back by the worker: openapi/gateway.yaml's `BuildRequest`.
public typealias BuildJobRequest = GatewayAPI.Components.Schemas.BuildRequest
