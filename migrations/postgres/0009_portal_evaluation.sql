-- The national portal's evaluation API: the figures behind a score, and
-- every earlier version of a score the portal has revised.
ALTER TABLE portal_scores ADD COLUMN details TEXT;

CREATE TABLE portal_score_history (
    id                   BIGSERIAL PRIMARY KEY,
    score_id             TEXT NOT NULL,
    unit_code            TEXT NOT NULL,
    period               TEXT NOT NULL,
    total                DOUBLE PRECISION,
    groups               TEXT NOT NULL,
    details              TEXT,
    upstream_updated_at  BIGINT,
    -- When this version was stored, and when the next one replaced it.
    stored_at            BIGINT NOT NULL,
    replaced_at          BIGINT NOT NULL
);
CREATE INDEX portal_score_history_key ON portal_score_history (unit_code, period);

-- A score whose figures change keeps its old version here, whichever
-- path writes it.
CREATE FUNCTION portal_scores_keep_history() RETURNS trigger AS $$
BEGIN
    -- A new column alone, as after this migration, is no revision.
    IF OLD.deleted_at IS NULL
       AND (OLD.total IS DISTINCT FROM NEW.total OR OLD.groups IS DISTINCT FROM NEW.groups
            OR (OLD.details IS NOT NULL AND OLD.details IS DISTINCT FROM NEW.details)) THEN
        INSERT INTO portal_score_history
            (score_id, unit_code, period, total, groups, details, upstream_updated_at, stored_at, replaced_at)
        VALUES
            (OLD.id, OLD.unit_code, OLD.period, OLD.total, OLD.groups, OLD.details,
             OLD.upstream_updated_at, OLD.changed_at, NEW.changed_at);
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER portal_scores_keep_history
AFTER UPDATE ON portal_scores
FOR EACH ROW EXECUTE FUNCTION portal_scores_keep_history();

-- A unit first met in the portal's figures is named as the portal names it.
CREATE FUNCTION portal_scores_name_new_units() RETURNS trigger AS $$
BEGIN
    IF NEW.details IS NOT NULL AND (NEW.details::json ->> 'unit_name') IS NOT NULL THEN
        UPDATE units SET name = NEW.details::json ->> 'unit_name'
        WHERE code = NEW.unit_code AND origin = 'inferred' AND name = code;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER portal_scores_name_new_units
AFTER INSERT ON portal_scores
FOR EACH ROW EXECUTE FUNCTION portal_scores_name_new_units();
