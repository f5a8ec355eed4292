-- A version's placement (API.md §14). Versions saved before it existed run in the cell, as
-- they always did (no silent change of behaviour); new scripts are given `auto` by the API.
ALTER TABLE `script_versions` ADD `placement` text DEFAULT 'cell' NOT NULL;
