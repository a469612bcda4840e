-- Adding items past a list's newest one leaves its full pages as they were, so a
-- reader keeps serving them (the page shown right after an add is such a page,
-- unless it is the list's last).
--
-- items_tail is the highest item id the list has ever held: every way an item
-- enters a list (insert, or an update that moves it in) raises it.
-- items_prefix_version is renewed by any change to the items up to the tail: every
-- change but an append, a statement whose new items all have ids above the tail.
-- The decision is taken while updating the list's row, so against the latest
-- committed tail under that row's lock: an insert whose id was drawn earlier but
-- commits later (ids are not committed in order) finds a higher tail and renews
-- the version. A page that ends before the list does (the reader found a row past
-- it) cannot change by an append; the list's last page can, so the reader also
-- compares the tail for it.
--
-- items_version keeps its meaning (renewed by any change): readers of the previous
-- release compare it, and stay right while a rolling upgrade replaces them.
ALTER TABLE todo_lists
    ADD COLUMN items_tail bigint,
    ADD COLUMN items_prefix_version uuid NOT NULL DEFAULT gen_random_uuid();

UPDATE todo_lists l SET items_tail = (SELECT max(id) FROM todo_list WHERE list_id = l.id);

-- changes: per list, the deltas of its counts; for inserted items the lowest of
-- their ids (first_id), for items that entered the list the highest (last_id).
CREATE OR REPLACE FUNCTION todo_lists_count(changes jsonb) RETURNS void
LANGUAGE sql AS $$
    UPDATE todo_lists l
    SET total = l.total + d.total,
        completed = l.completed + d.completed,
        items_version = gen_random_uuid(),
        items_prefix_version = CASE WHEN d.first_id > coalesce(l.items_tail, 0)
                                    THEN l.items_prefix_version ELSE gen_random_uuid() END,
        items_tail = greatest(l.items_tail, d.last_id)
    FROM jsonb_to_recordset(changes)
         AS d(list_id bigint, total bigint, completed bigint, first_id bigint, last_id bigint)
    WHERE l.id = d.list_id
$$;

CREATE OR REPLACE FUNCTION todo_list_counts_after_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM todo_lists_count(jsonb_agg(d)) FROM (
        SELECT list_id, count(*) AS total, count(*) FILTER (WHERE completed) AS completed,
               min(id) AS first_id, max(id) AS last_id
        FROM new_rows WHERE list_id IS NOT NULL GROUP BY list_id) d
    HAVING count(*) > 0;
    RETURN NULL;
END $$;

-- An update is never an append (it changes items already shown somewhere), but an
-- item it moves into a list raises that list's tail.
CREATE OR REPLACE FUNCTION todo_list_counts_after_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM todo_lists_count(jsonb_agg(d)) FROM (
        SELECT list_id, sum(total) AS total, sum(completed) AS completed,
               max(entered) AS last_id
        FROM (
            SELECT list_id, -1 AS total, -completed::int AS completed, NULL::bigint AS entered FROM old_rows
            UNION ALL
            SELECT list_id, 1, completed::int, id FROM new_rows) changed
        WHERE list_id IS NOT NULL GROUP BY list_id) d
    HAVING count(*) > 0;
    RETURN NULL;
END $$;
