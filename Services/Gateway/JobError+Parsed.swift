import GatewayAPI
import RequestValidation

extension Components.Schemas.JobError {
    /// A recorded job error as `JSONDecoder` decodes it (members it does not know ignored, a
    /// `null` stage as none), read from its parse: the decoder was a fiftieth of a submit's CPU
    /// (a dry run's job is recorded with its error). Nil for one of another shape, left to the decoder.
    init?(parsed error: JSONNode) {
        guard case .object(let members) = error, case .string(let code)? = members["code"],
            case .string(let message)? = members["message"], case .bool(let retryable)? = members["retryable"]
        else { return nil }
        var stage: StagePayload?
        switch members["stage"] {
        case nil, .null?: stage = nil
        case .string(let name)?:
            guard let known = StagePayload(rawValue: name) else { return nil }
            stage = known
        default: return nil
        }
        self.init(code: code, message: message, retryable: retryable, stage: stage)
    }
}
