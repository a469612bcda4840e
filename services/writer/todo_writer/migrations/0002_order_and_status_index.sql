-- The Todo-Backend API's client-chosen "order"; NULL for items that never had one.
ALTER TABLE todo_list ADD COLUMN IF NOT EXISTS position integer;

-- Keyset pages of one status (active/completed) walk this index in id order.
CREATE INDEX IF NOT EXISTS todo_list_completed_id_idx ON todo_list (completed, id);
