-- Answers to creates made with an Idempotency-Key, so a retried request gets the
-- first answer back instead of making a second item. Rows older than a day are purged.
CREATE TABLE idempotency_keys (
    key varchar(255) PRIMARY KEY,
    request_hash text NOT NULL,
    response jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
