-- The national portal's evaluation API: the figures behind a score, and
-- every earlier version of a score the portal has revised.
ALTER TABLE portal_scores ADD COLUMN details TEXT;

CREATE TABLE portal_score_history (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    score_id             TEXT NOT NULL,
    unit_code            TEXT NOT NULL,
    period               TEXT NOT NULL,
    total                REAL,
    groups               TEXT NOT NULL,
    details              TEXT,
    upstream_updated_at  INTEGER,
    -- When this version was stored, and when the next one replaced it.
    stored_at            INTEGER NOT NULL,
    replaced_at          INTEGER NOT NULL
);
CREATE INDEX portal_score_history_key ON portal_score_history (unit_code, period);

-- A score whose figures change keeps its old version here, whichever
-- path writes it (a new column alone, as after this migration, is no
-- revision).
CREATE TRIGGER portal_scores_keep_history
AFTER UPDATE OF content_hash ON portal_scores
WHEN OLD.deleted_at IS NULL
 AND (OLD.total IS NOT NEW.total OR OLD.groups IS NOT NEW.groups
      OR (OLD.details IS NOT NULL AND OLD.details IS NOT NEW.details))
BEGIN
    INSERT INTO portal_score_history
        (score_id, unit_code, period, total, groups, details, upstream_updated_at, stored_at, replaced_at)
    VALUES
        (OLD.id, OLD.unit_code, OLD.period, OLD.total, OLD.groups, OLD.details,
         OLD.upstream_updated_at, OLD.changed_at, NEW.changed_at);
END;

-- A unit first met in the portal's figures is named as the portal names it.
CREATE TRIGGER portal_scores_name_new_units
AFTER INSERT ON portal_scores
WHEN json_extract(NEW.details, '$.unit_name') IS NOT NULL
BEGIN
    UPDATE units SET name = json_extract(NEW.details, '$.unit_name')
    WHERE code = NEW.unit_code AND origin = 'inferred' AND name = code;
END;
