-- One row per record in the store, with the tags of the tagger version in force
-- (store_meta.tagger_version): rows an older tagger left behind never leak into the counts.
--
-- evidence_class decides which count a record can ever join (docs/evidence-levels.md):
--   retracted     first, whatever else is known: excluded from every count, counted apart;
--   human         population human, or mixed (it reports human data);
--   animal, in_vitro   preclinical: CEBM level 5 whatever the design, never in the verdict;
--   unclassified  population unknown, or the record is not tagged yet.
CREATE OR REPLACE VIEW v_articles AS
WITH tags_in_force AS (
    SELECT t.*
    FROM tags t
    JOIN store_meta m ON m.key = 'tagger_version' AND t.tagger_version = m.value
)
SELECT a.pmid, a.title, a.abstract, a.journal, a.pub_year, a.pub_month, a.doi, a.pmc,
       a.citation_status, a.is_retracted,
       t.design, t.design_confidence, t.design_source, t.population, t.sample_size,
       t.sample_size_text,
       CASE WHEN a.is_retracted THEN 'retracted'
            WHEN t.population IN ('human', 'mixed') THEN 'human'
            WHEN t.population IN ('animal', 'in_vitro') THEN t.population
            ELSE 'unclassified' END AS evidence_class,
       CASE WHEN t.population IN ('human', 'mixed') THEN l.cebm_level
            WHEN t.population IN ('animal', 'in_vitro') THEN 5 END AS cebm_level,
       t.tagger_version
FROM articles a
LEFT JOIN tags_in_force t USING (pmid)
LEFT JOIN v_design_levels l USING (design);

CREATE OR REPLACE VIEW v_claim_directions AS
SELECT d.pmid, d.claim_id, d.direction, d.confidence, d.evidence_sentence, d.tagger_version
FROM claim_directions d
JOIN store_meta m ON m.key = 'tagger_version' AND d.tagger_version = m.value;

-- The registry, one row per claim, with the conditions it names.
CREATE OR REPLACE VIEW v_claims AS
WITH conds AS (
    SELECT claim_id, list(DISTINCT name ORDER BY name) AS conditions
    FROM claim_conditions
    GROUP BY claim_id
)
SELECT c.claim_id, c.statement, c.kind, c.population, c.outcome, c.supporting_direction,
       coalesce(k.conditions, []::VARCHAR[]) AS conditions, c.query
FROM claims c
LEFT JOIN conds k USING (claim_id);
