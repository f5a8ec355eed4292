-- A version's language (API.md §13). Versions saved before it existed are JavaScript: the
-- constant default fills them in without updating a row (versions are immutable, 0001).
ALTER TABLE `script_versions` ADD `language` text DEFAULT 'javascript' NOT NULL;
