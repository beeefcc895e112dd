-- One row per (claim, record) link: the records the claim's PubMed query matched
-- (query_articles rows whose query_id is a claim id), with the record's tags in force and
-- the direction tagged for that claim. Links of broad ingestion queries are not claims.
--
-- A link is indirect when the claim names conditions, the record is about registry
-- conditions (v_article_conditions), and none of its most specific ones is a condition the
-- claim names: a treatment-resistant-depression trial linked to a general depression claim,
-- a PTSD trial linked to a depression claim.
CREATE OR REPLACE VIEW v_claim_evidence AS
WITH links AS (
    SELECT q.query_id AS claim_id, q.pmid
    FROM query_articles q
    SEMI JOIN claims c ON c.claim_id = q.query_id
),
directness AS (
    SELECT l.claim_id, l.pmid,
           bool_or(k.condition_key IS NOT NULL) AS about_claim_condition,
           list(DISTINCT s.condition ORDER BY s.condition) AS conditions_found
    FROM links l
    JOIN v_article_conditions s ON s.pmid = l.pmid AND s.is_most_specific
    LEFT JOIN v_claim_conditions k
           ON k.claim_id = l.claim_id AND k.condition_key = s.condition_key
    GROUP BY l.claim_id, l.pmid
),
claims_with_conditions AS (
    SELECT DISTINCT claim_id FROM v_claim_conditions
)
SELECT l.claim_id, l.pmid, a.title, a.journal, a.pub_year, a.is_retracted,
       a.design, a.population, a.sample_size, a.evidence_class, a.cebm_level,
       coalesce(d.direction, 'untagged') AS direction,
       d.confidence AS direction_confidence, d.evidence_sentence,
       coalesce(x.conditions_found, []::VARCHAR[]) AS conditions_found,
       coalesce(w.claim_id IS NOT NULL AND NOT x.about_claim_condition, FALSE) AS is_indirect
FROM links l
JOIN v_articles a USING (pmid)
LEFT JOIN v_claim_directions d ON d.pmid = l.pmid AND d.claim_id = l.claim_id
LEFT JOIN directness x ON x.claim_id = l.claim_id AND x.pmid = l.pmid
LEFT JOIN claims_with_conditions w ON w.claim_id = l.claim_id;

-- The evidence table of each claim: linked records counted by class x design x direction,
-- aggregated once so the summary reads a few thousand rows, not every link.
CREATE OR REPLACE VIEW v_claim_design_direction AS
SELECT claim_id, evidence_class, design, direction, cebm_level,
       count(*) AS n_records,
       count(*) FILTER (WHERE is_indirect) AS n_indirect,
       count(sample_size) AS n_with_sample_size,
       coalesce(sum(sample_size), 0) AS participants,
       max(sample_size) AS max_sample_size
FROM v_claim_evidence
GROUP BY claim_id, evidence_class, design, direction, cebm_level;
