-- The original application's table, exactly. On a database that already has it
-- (adopting the original app in place) this changes nothing and keeps every row.
CREATE TABLE IF NOT EXISTS todo_list (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name varchar(100) NOT NULL,
    completed boolean NOT NULL DEFAULT false
);
