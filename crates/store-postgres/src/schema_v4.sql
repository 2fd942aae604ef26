-- Version 4: history in chunks (one commit's events of an execution together, deflated when
-- that is smaller: see stepwise_store::chunks); older events become chunks of one event each.
CREATE TABLE event_chunks (
    execution TEXT COLLATE "C" NOT NULL,
    first_id BIGINT NOT NULL,
    last_id BIGINT NOT NULL,
    codec BIGINT NOT NULL,
    body BYTEA NOT NULL,
    PRIMARY KEY (execution, first_id)
);
INSERT INTO event_chunks (execution, first_id, last_id, codec, body)
    SELECT execution, id, id, 0, convert_to(body, 'UTF8') FROM events;
DROP TABLE events;
