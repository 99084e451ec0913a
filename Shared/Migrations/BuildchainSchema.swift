import Postgres

/// buildchain's schema, applied at start-up by every service (`Migrator.apply`).
/// Append new migrations; never edit one that has shipped.
public enum BuildchainSchema {
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "jobs, stage runs and run events", sql: version1),
        Migration(version: 2, name: "artifacts", sql: version2),
        Migration(version: 3, name: "job stages, job events, leases and build keys", sql: version3),
        Migration(version: 4, name: "open multipart uploads", sql: version4),
        Migration(version: 5, name: "sealed job secrets", sql: version5),
        Migration(version: 6, name: "a lease token per job claim", sql: version6),
        Migration(version: 7, name: "webhook deliveries", sql: version7),
    ]

    /// The token of a job's current claim (see `JobLease`): a new one at every claim, and
    /// every write of the run holding it is conditioned on it, not on the owner's name.
    private static let version6 = """
        ALTER TABLE jobs ADD COLUMN lease_token uuid;
        """

    /// Each webhook delivery the gateway acted on, by the sender's delivery id (GitHub's
    /// `X-GitHub-Delivery`): a redelivered id starts nothing, and a job shows which delivery
    /// started it.
    private static let version7 = """
        CREATE TABLE webhook_deliveries (
            delivery_id text PRIMARY KEY,
            source text NOT NULL,
            event text NOT NULL,
            repository text NOT NULL,
            ref text NOT NULL,
            commit_sha text NOT NULL,
            job_ids uuid[] NOT NULL DEFAULT '{}',
            received_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX webhook_deliveries_jobs_idx ON webhook_deliveries USING gin (job_ids);
        """

    /// A job's declared secrets, sealed with AES-256-GCM by the gateway (`key_id` names the key,
    /// `sealed` is the base64 box; see `SealingKeyring`), kept while the job may still run:
    /// stage retries and a gateway resuming the job after a crash open them again. The trigger
    /// deletes them the moment the job ends, whichever statement ends it.
    private static let version5 = """
        CREATE TABLE job_secrets (
            job_id uuid PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
            key_id text NOT NULL,
            sealed text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE FUNCTION job_secrets_forget() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM job_secrets WHERE job_id = NEW.id;
            RETURN NULL;
        END
        $$;
        CREATE TRIGGER jobs_forget_secrets AFTER INSERT OR UPDATE OF state ON jobs
            FOR EACH ROW WHEN (NEW.state IN ('succeeded', 'failed', 'cancelled'))
            EXECUTE FUNCTION job_secrets_forget();
        """

    /// artifact-service's ledger of the S3 multipart uploads it has open, heartbeated by the
    /// process sending them; one whose heartbeat stops (the process died) is aborted by any
    /// replica's sweeper, so its parts do not stay in the bucket.
    private static let version4 = """
        CREATE TABLE multipart_uploads (
            upload_id text PRIMARY KEY,
            key text NOT NULL,
            owner text NOT NULL,
            started_at timestamptz NOT NULL DEFAULT now(),
            heartbeat_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX multipart_uploads_owner_idx ON multipart_uploads (owner);
        """

    /// The gateway's side: a job's stages (one row each, in `position` order), its own event
    /// log (state changes and the stage runs' log lines, copied as they are followed), the
    /// cancel flag any replica may set, the deadline, and the build key for dedupe.
    private static let version3 = """
        ALTER TABLE jobs
            ADD COLUMN build_key text,
            ADD COLUMN reused_from uuid,
            ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false,
            ADD COLUMN deadline_at timestamptz,
            ADD COLUMN event_seq bigint NOT NULL DEFAULT 0;
        CREATE INDEX jobs_queued_idx ON jobs (created_at) WHERE state = 'queued';
        CREATE INDEX jobs_build_key_idx ON jobs (build_key) WHERE build_key IS NOT NULL;

        CREATE TABLE job_stages (
            job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
            position int NOT NULL,
            name text NOT NULL CHECK (name IN ('checkout', 'rewrite', 'build', 'push')),
            status text NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
            attempt int NOT NULL DEFAULT 0 CHECK (attempt >= 0),
            run_id uuid,
            run_events_seen bigint NOT NULL DEFAULT 0,
            started_at timestamptz,
            finished_at timestamptz,
            result jsonb,
            error jsonb,
            PRIMARY KEY (job_id, name)
        );

        CREATE TABLE job_events (
            job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
            seq bigint NOT NULL,
            at timestamptz NOT NULL DEFAULT now(),
            stage text,
            kind text NOT NULL CHECK (kind IN ('log', 'state')),
            stream text,
            message text NOT NULL,
            PRIMARY KEY (job_id, seq)
        );
        """

    /// One row per stored artifact, written after the bytes are in the store.
    private static let version2 = """
        CREATE TABLE artifacts (
            key text PRIMARY KEY,
            size bigint NOT NULL CHECK (size >= 0),
            sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
            media_type text NOT NULL,
            job_id uuid,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX artifacts_job_id ON artifacts (job_id);
        """

    // stage_runs.job_id has no foreign key to jobs: stage services record runs requested by
    // anyone (tooling, CI, the gateway), each service is deployable alone, and a run must
    // outlive the job row it served, so the column is a plain indexed reference.
    // stage_runs.event_seq is the last seq given to one of the run's events: appending an event
    // increments it with UPDATE … RETURNING, whose row lock serialises concurrent appends.
    private static let version1 = """
        CREATE TABLE jobs (
            id uuid PRIMARY KEY,
            workload text NOT NULL,
            service text NOT NULL,
            state text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
            request jsonb NOT NULL,
            result jsonb,
            error jsonb,
            attempt int NOT NULL DEFAULT 0 CHECK (attempt >= 0),
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            started_at timestamptz,
            finished_at timestamptz,
            lease_owner text,
            lease_expires_at timestamptz
        );
        CREATE INDEX jobs_workload_service_created_idx ON jobs (workload, service, created_at DESC);
        CREATE INDEX jobs_state_created_idx ON jobs (state, created_at DESC);
        CREATE INDEX jobs_created_idx ON jobs (created_at DESC);
        CREATE INDEX jobs_running_lease_idx ON jobs (lease_expires_at) WHERE state = 'running';

        CREATE TABLE stage_runs (
            id uuid PRIMARY KEY,
            service text NOT NULL,
            kind text NOT NULL,
            job_id uuid,
            status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
            attempt int NOT NULL DEFAULT 0 CHECK (attempt >= 0),
            request jsonb NOT NULL,
            result jsonb,
            error jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            started_at timestamptz,
            finished_at timestamptz,
            heartbeat_at timestamptz,
            owner text,
            event_seq bigint NOT NULL DEFAULT 0
        );
        CREATE INDEX stage_runs_job_idx ON stage_runs (job_id);
        CREATE INDEX stage_runs_service_status_heartbeat_idx ON stage_runs (service, status, heartbeat_at);

        CREATE TABLE run_events (
            run_id uuid NOT NULL REFERENCES stage_runs (id) ON DELETE CASCADE,
            seq bigint NOT NULL,
            at timestamptz NOT NULL DEFAULT now(),
            kind text NOT NULL CHECK (kind IN ('log', 'state')),
            stream text,
            message text NOT NULL,
            data jsonb,
            PRIMARY KEY (run_id, seq)
        );
        """
}
