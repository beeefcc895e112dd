-- Whether a record's design came from NLM's indexers or was read from its title and abstract
-- decides how far a reader can trust it (docs/evaluation.md): the claim drill-down shows it.
-- pipeline.evidence.refresh() fills these from v_evidence_links_live; a store refreshed before
-- this migration has them NULL until the next refresh, which v_evidence_status asks for.
ALTER TABLE evidence_links ADD COLUMN IF NOT EXISTS design_source VARCHAR;
ALTER TABLE evidence_links ADD COLUMN IF NOT EXISTS design_confidence DOUBLE;
