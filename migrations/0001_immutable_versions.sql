-- Version snapshots are written once: the database itself refuses to change or remove one.
CREATE TRIGGER `script_versions_no_update` BEFORE UPDATE ON `script_versions`
BEGIN
  SELECT RAISE(ABORT, 'script versions are immutable');
END;
--> statement-breakpoint
CREATE TRIGGER `script_versions_no_delete` BEFORE DELETE ON `script_versions`
BEGIN
  SELECT RAISE(ABORT, 'script versions are immutable');
END;
