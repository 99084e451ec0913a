/// The header a gateway starts a stage run with: the lease token of its claim of the job the
/// run is for. The stage service records the run only while that claim still holds the job
/// (`RunExecutor.start`), so a gateway that lost its lease cannot start a second run of a stage
/// the new claim runs or adopts. Absent for callers other than a gateway.
public enum LeaseTokenHeader {
    public static let name = "Buildchain-Lease-Token"
}
