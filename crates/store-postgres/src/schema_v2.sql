-- Version 2: many nodes. Executions are spread over 64 partitions (a hash of their ARN, computed
-- by Stepwise); a node owns a partition under a lease, and taking it increments its epoch, which
-- every commit checks (fencing). Timers and tasks carry their execution's partition, so a node
-- reads only its own; the inbox carries requests to a partition's owner.
CREATE TABLE partitions (
    id INT PRIMARY KEY,
    owner TEXT COLLATE "C",
    epoch BIGINT NOT NULL DEFAULT 0,
    lease_until_ms BIGINT NOT NULL DEFAULT 0
);
INSERT INTO partitions (id) SELECT generate_series(0, 63);

CREATE TABLE nodes (
    id TEXT COLLATE "C" PRIMARY KEY,
    heartbeat_ms BIGINT NOT NULL
);

CREATE TABLE inbox (
    id BIGSERIAL PRIMARY KEY,
    part INT NOT NULL,
    body TEXT NOT NULL,
    reply BOOLEAN NOT NULL,
    done BOOLEAN NOT NULL DEFAULT false,
    outcome TEXT,
    created_ms BIGINT NOT NULL
);
CREATE INDEX inbox_open ON inbox (part, id) WHERE NOT done;

-- Filled for existing rows by Stepwise after this script (the hash is computed in Rust).
ALTER TABLE timers ADD COLUMN part INT;
ALTER TABLE tasks ADD COLUMN part INT;
CREATE INDEX timers_by_part ON timers (part, fire_ms);
CREATE INDEX tasks_by_part ON tasks (part, activity, created_ms);
