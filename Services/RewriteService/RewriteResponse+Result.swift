import Dockerfile
import RewriteAPI

typealias RewriteResponse = Components.Schemas.RewriteResponse

extension RewriteResponse {
    /// The response for a rewrite; with `pinned`, the pinned text and changes replace the rewrite's.
    init(_ result: RewriteResult, pinned: (text: String, changes: [Change])? = nil) {
        self.init(
            dockerfile: pinned?.text ?? result.text,
            changes: (pinned?.changes ?? result.changes).map(Components.Schemas.Change.init),
            warnings: result.warnings.map { .init(line: $0.line, message: $0.message) },
            buildArgs: .init(additionalProperties: result.buildArgs),
            buildArgChanges: result.buildArgChanges.map { .init(name: $0.name, from: $0.from, to: $0.to) },
            pulledImages: result.pulledImages.map { .init(line: $0.line, instruction: $0.instruction, reference: $0.reference) },
            diff: pinned.map { UnifiedDiff.make(from: result.original, to: $0.text) } ?? result.unifiedDiff)
    }
}

extension Components.Schemas.Change {
    init(_ change: Change) {
        let form: FormPayload =
            switch change.form {
            case .reference: .reference
            case .prefix: .prefix
            case .argDefault: .argDefault
            case .resolved: .resolved
            }
        self.init(line: change.line, instruction: change.instruction, from: change.from, to: change.to, form: form)
    }
}
