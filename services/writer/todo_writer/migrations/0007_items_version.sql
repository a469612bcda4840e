-- A list's items version: a new value whenever any of its items is added, removed,
-- renamed, toggled, reordered or moved, kept by the same statement triggers as its
-- counts. A reader keeps a page of items and, in the page query itself, learns
-- whether it still holds: one indexed row instead of 250. Random rather than a
-- counter, so a database restored from a backup never hands out an old version
-- again for different items.
ALTER TABLE todo_lists ADD COLUMN items_version uuid NOT NULL DEFAULT gen_random_uuid();

-- Every list a statement touched gets a new version, also when its counts did not move.
CREATE OR REPLACE FUNCTION todo_lists_count(changes jsonb) RETURNS void
LANGUAGE sql AS $$
    UPDATE todo_lists l
    SET total = l.total + d.total, completed = l.completed + d.completed, items_version = gen_random_uuid()
    FROM jsonb_to_recordset(changes) AS d(list_id bigint, total bigint, completed bigint)
    WHERE l.id = d.list_id
$$;
