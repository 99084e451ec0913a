import Foundation

/// One claim of a job: who claimed it and the token that claim was given. A job's token
/// changes at every claim (even when the same process claims it again after its lease ran
/// out), and every write a run of the job makes is conditioned on its claim's token, so a run
/// whose lease was lost can write nothing.
public struct JobLease: Sendable, Hashable {
    public let jobID: UUID
    public let owner: String
    public let token: UUID
}
