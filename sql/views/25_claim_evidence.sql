-- One row per (claim, record) link with the record's citation: the drill-down behind a claim.
CREATE OR REPLACE VIEW v_claim_evidence AS
SELECT e.claim_id, e.pmid, a.title, a.journal, e.pub_year, a.doi, e.is_retracted, e.design,
       e.design_source, e.design_confidence, e.population, e.sample_size, e.evidence_class,
       e.cebm_level, e.direction, e.direction_confidence, e.evidence_sentence, e.conditions_found, e.is_indirect
FROM evidence_links e
JOIN articles a USING (pmid);

-- Each claim's evidence table: its links counted by class x design x direction.
CREATE OR REPLACE VIEW v_claim_design_direction AS
SELECT claim_id, evidence_class, design, direction, cebm_level,
       count(*) AS n_records,
       count(*) FILTER (WHERE is_indirect) AS n_indirect,
       count(sample_size) AS n_with_sample_size,
       coalesce(sum(sample_size), 0)::BIGINT AS participants,
       max(sample_size) AS max_sample_size
FROM evidence_links
GROUP BY claim_id, evidence_class, design, direction, cebm_level;
