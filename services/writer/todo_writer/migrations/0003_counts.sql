-- Item counts kept up to date by triggers, so the page's "N items left" costs the
-- same with a million rows as with ten (count(*) would scan them all).
--
-- The counts are spread over 16 slots chosen by backend pid and summed on read:
-- with a single row every writer would queue on its lock until commit.
CREATE TABLE todo_counts (
    slot smallint PRIMARY KEY,
    total bigint NOT NULL DEFAULT 0,
    completed bigint NOT NULL DEFAULT 0
);

CREATE FUNCTION todo_counts_apply(delta_total bigint, delta_completed bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO todo_counts AS c (slot, total, completed)
    VALUES ((pg_backend_pid() % 16)::smallint, delta_total, delta_completed)
    ON CONFLICT (slot) DO UPDATE
        SET total = c.total + excluded.total, completed = c.completed + excluded.completed
$$;

-- Statement-level triggers with transition tables: one counts update per statement,
-- so "clear completed" on 100,000 rows is one update, not 100,000.
CREATE FUNCTION todo_counts_after_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM todo_counts_apply(count(*), count(*) FILTER (WHERE completed)) FROM new_rows HAVING count(*) > 0;
    RETURN NULL;
END $$;

CREATE FUNCTION todo_counts_after_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM todo_counts_apply(-count(*), -count(*) FILTER (WHERE completed)) FROM old_rows HAVING count(*) > 0;
    RETURN NULL;
END $$;

CREATE FUNCTION todo_counts_after_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM todo_counts_apply(0, delta)
    FROM (SELECT (SELECT count(*) FILTER (WHERE completed) FROM new_rows)
               - (SELECT count(*) FILTER (WHERE completed) FROM old_rows) AS delta) d
    WHERE delta <> 0;
    RETURN NULL;
END $$;

CREATE TRIGGER todo_counts_insert AFTER INSERT ON todo_list
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION todo_counts_after_insert();
CREATE TRIGGER todo_counts_delete AFTER DELETE ON todo_list
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION todo_counts_after_delete();
CREATE TRIGGER todo_counts_update AFTER UPDATE ON todo_list
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION todo_counts_after_update();

-- Seed from the rows already there (an adopted database), with writers of the old
-- app held off until this migration commits so no change slips between.
LOCK TABLE todo_list IN SHARE ROW EXCLUSIVE MODE;
INSERT INTO todo_counts (slot, total, completed)
SELECT 0, count(*), count(*) FILTER (WHERE completed) FROM todo_list;
