-- Accounts: every item now lives in a named list that belongs to one person.
-- Items that existed before (this project's shared list, or the original app's
-- table) get no list here; `migrate --owner NAME` gives them to an account.

CREATE TABLE accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username varchar(40) NOT NULL,
    -- argon2id; NULL until a password is set (an adopted owner cannot log in before).
    password_hash text,
    -- Bumped by logout and password change: every signed session naming an older
    -- generation stops working at once.
    session_generation integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz
);
CREATE UNIQUE INDEX accounts_username_key ON accounts (lower(username));
CREATE INDEX accounts_last_login_at_idx ON accounts (last_login_at);

CREATE TABLE todo_lists (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name varchar(100) NOT NULL,
    -- Kept by the triggers below, so counts cost the same for any list size.
    total bigint NOT NULL DEFAULT 0,
    completed bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX todo_lists_account_id_idx ON todo_lists (account_id, id);

ALTER TABLE todo_list ADD COLUMN list_id bigint REFERENCES todo_lists (id) ON DELETE CASCADE;
-- Keyset pages of one list (and of one status in it) walk these in id order.
CREATE INDEX todo_list_list_id_idx ON todo_list (list_id, id);
CREATE INDEX todo_list_list_completed_id_idx ON todo_list (list_id, completed, id);
DROP INDEX IF EXISTS todo_list_completed_id_idx;

-- Per-list counts replace the global slots: one update of the list's row per
-- statement (grouped from the transition tables), so "clear completed" on 10,000
-- items is one update.
DROP TRIGGER todo_counts_insert ON todo_list;
DROP TRIGGER todo_counts_delete ON todo_list;
DROP TRIGGER todo_counts_update ON todo_list;
DROP FUNCTION todo_counts_after_insert();
DROP FUNCTION todo_counts_after_delete();
DROP FUNCTION todo_counts_after_update();
DROP FUNCTION todo_counts_apply(bigint, bigint);
DROP TABLE todo_counts;

CREATE FUNCTION todo_lists_count(changes jsonb) RETURNS void
LANGUAGE sql AS $$
    UPDATE todo_lists l
    SET total = l.total + d.total, completed = l.completed + d.completed
    FROM jsonb_to_recordset(changes) AS d(list_id bigint, total bigint, completed bigint)
    WHERE l.id = d.list_id AND (d.total <> 0 OR d.completed <> 0)
$$;

CREATE FUNCTION todo_list_counts_after_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM todo_lists_count(jsonb_agg(d)) FROM (
        SELECT list_id, count(*) AS total, count(*) FILTER (WHERE completed) AS completed
        FROM new_rows WHERE list_id IS NOT NULL GROUP BY list_id) d
    HAVING count(*) > 0;
    RETURN NULL;
END $$;

CREATE FUNCTION todo_list_counts_after_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM todo_lists_count(jsonb_agg(d)) FROM (
        SELECT list_id, -count(*) AS total, -count(*) FILTER (WHERE completed) AS completed
        FROM old_rows WHERE list_id IS NOT NULL GROUP BY list_id) d
    HAVING count(*) > 0;
    RETURN NULL;
END $$;

CREATE FUNCTION todo_list_counts_after_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM todo_lists_count(jsonb_agg(d)) FROM (
        SELECT list_id, sum(total) AS total, sum(completed) AS completed FROM (
            SELECT list_id, -1 AS total, -completed::int AS completed FROM old_rows
            UNION ALL
            SELECT list_id, 1, completed::int FROM new_rows) changed
        WHERE list_id IS NOT NULL GROUP BY list_id) d
    HAVING count(*) > 0;
    RETURN NULL;
END $$;

CREATE TRIGGER todo_list_counts_insert AFTER INSERT ON todo_list
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION todo_list_counts_after_insert();
CREATE TRIGGER todo_list_counts_delete AFTER DELETE ON todo_list
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION todo_list_counts_after_delete();
CREATE TRIGGER todo_list_counts_update AFTER UPDATE ON todo_list
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION todo_list_counts_after_update();

-- A key is remembered per account: two people may pick the same key.
DELETE FROM idempotency_keys;
ALTER TABLE idempotency_keys ADD COLUMN account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (account_id, key);

-- API tokens for scripts, one list each. Only a SHA-256 of the token is kept: the
-- token is 256 random bits, so a fast hash is enough and a leaked table is useless.
CREATE TABLE api_tokens (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    list_id bigint NOT NULL REFERENCES todo_lists (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_tokens_account_id_idx ON api_tokens (account_id);

-- Fixed-window counters for failed logins (per account and per client address)
-- and sign-ups (per address), shared by every frontend and writer replica.
CREATE TABLE auth_throttle (
    subject text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    hits integer NOT NULL
);
CREATE INDEX auth_throttle_window_start_idx ON auth_throttle (window_start);
