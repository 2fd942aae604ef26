-- Version 1: the tables of the SQLite store, on PostgreSQL. Keys and sort keys compare bytewise
-- (COLLATE "C"), so lists come in the same order on both backends.
CREATE TABLE resources (
    arn TEXT COLLATE "C" PRIMARY KEY,
    kind TEXT NOT NULL,
    parent TEXT COLLATE "C",
    sort_key TEXT COLLATE "C" NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX resources_list ON resources (kind, parent, sort_key);

CREATE TABLE definitions (
    hash TEXT COLLATE "C" PRIMARY KEY,
    text TEXT NOT NULL
);

CREATE TABLE executions (
    arn TEXT COLLATE "C" PRIMARY KEY,
    state_machine_arn TEXT COLLATE "C" NOT NULL,
    version_arn TEXT COLLATE "C",
    alias_arn TEXT COLLATE "C",
    name TEXT COLLATE "C" NOT NULL,
    status TEXT NOT NULL,
    start_ms BIGINT NOT NULL,
    stop_ms BIGINT,
    input TEXT NOT NULL,
    output TEXT,
    error TEXT,
    cause TEXT,
    definition_hash TEXT NOT NULL,
    role_arn TEXT NOT NULL,
    trace_header TEXT,
    redrive_count BIGINT NOT NULL,
    redrive_ms BIGINT,
    event_count BIGINT NOT NULL,
    step_count BIGINT NOT NULL,
    parent TEXT,
    test_case TEXT,
    history_digest TEXT,
    clock_offset_ms BIGINT NOT NULL DEFAULT 0,
    map_run_arn TEXT COLLATE "C",
    map_run_index BIGINT
);
CREATE INDEX executions_by_start ON executions (start_ms DESC, arn DESC);
CREATE INDEX executions_by_machine ON executions (state_machine_arn, start_ms DESC, arn DESC);
CREATE INDEX executions_by_machine_name ON executions (state_machine_arn, name);
CREATE INDEX executions_by_machine_status ON executions (state_machine_arn, status, start_ms DESC, arn DESC);
CREATE INDEX executions_by_version ON executions (version_arn, start_ms DESC, arn DESC) WHERE version_arn IS NOT NULL;
CREATE INDEX executions_by_alias ON executions (alias_arn, start_ms DESC, arn DESC) WHERE alias_arn IS NOT NULL;
CREATE INDEX executions_by_map_run ON executions (map_run_arn, start_ms DESC, arn DESC) WHERE map_run_arn IS NOT NULL;
CREATE INDEX executions_by_map_run_index ON executions (map_run_arn, map_run_index) WHERE map_run_arn IS NOT NULL;
CREATE INDEX executions_open ON executions (status) WHERE status = 'RUNNING';

CREATE TABLE events (
    execution TEXT COLLATE "C" NOT NULL,
    id BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (execution, id)
);

CREATE TABLE steps (
    execution TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (execution, seq)
);

CREATE TABLE timers (
    execution TEXT COLLATE "C" NOT NULL,
    timer BIGINT NOT NULL,
    fire_ms BIGINT NOT NULL,
    PRIMARY KEY (execution, timer)
);
CREATE INDEX timers_due ON timers (fire_ms);

CREATE TABLE tasks (
    token TEXT COLLATE "C" PRIMARY KEY,
    execution TEXT COLLATE "C" NOT NULL,
    task BIGINT NOT NULL,
    activity TEXT COLLATE "C" NOT NULL,
    input TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    worker TEXT COLLATE "C"
);
CREATE INDEX tasks_queue ON tasks (activity, created_ms) WHERE worker IS NULL;
CREATE INDEX tasks_by_execution ON tasks (execution);

CREATE TABLE map_runs (
    arn TEXT COLLATE "C" PRIMARY KEY,
    execution TEXT COLLATE "C" NOT NULL,
    status TEXT NOT NULL,
    start_ms BIGINT NOT NULL,
    stop_ms BIGINT,
    max_concurrency BIGINT NOT NULL DEFAULT 0,
    tolerated_count DOUBLE PRECISION,
    tolerated_pct DOUBLE PRECISION,
    children BIGINT,
    items BIGINT,
    redrive_count BIGINT NOT NULL DEFAULT 0,
    redrive_ms BIGINT
);
CREATE INDEX map_runs_by_execution ON map_runs (execution, start_ms);

CREATE TABLE meta (
    name TEXT COLLATE "C" PRIMARY KEY,
    value TEXT NOT NULL
);
