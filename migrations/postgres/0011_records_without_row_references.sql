-- Ingested records no longer check their unit row by row (issue 17).
--
-- A foreign key from a record table to units makes PostgreSQL look the
-- unit up once per inserted row: measured on a first sync of 93k dossiers
-- by COPY, 0.8 s of 1.8 s, the largest cost after the load itself. The
-- reference still holds, by the one path that writes records: a page's
-- transaction inserts the units it names before its records
-- (storage::records::upsert::insert_inferred_units), and units are never
-- deleted. SQLite keeps its foreign keys; it checks them at a fraction of
-- the cost.
ALTER TABLE dossiers      DROP CONSTRAINT IF EXISTS dossiers_unit_code_fkey;
ALTER TABLE petitions     DROP CONSTRAINT IF EXISTS petitions_unit_code_fkey;
ALTER TABLE documents     DROP CONSTRAINT IF EXISTS documents_unit_code_fkey;
ALTER TABLE reports       DROP CONSTRAINT IF EXISTS reports_unit_code_fkey;
ALTER TABLE portal_scores DROP CONSTRAINT IF EXISTS portal_scores_unit_code_fkey;
