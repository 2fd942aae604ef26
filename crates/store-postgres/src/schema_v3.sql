-- Version 3: closed executions by when they closed (retention finds them in this order).
CREATE INDEX executions_closed ON executions (stop_ms, arn) WHERE stop_ms IS NOT NULL;
