-- The rules that turn links, tags and directions into evidence, one row per (claim, record)
-- link. pipeline.evidence.refresh() stores this in the table evidence_links, which the
-- summary views read; query this view directly to see the rules applied to the tables as they
-- are now. docs/evidence-levels.md explains each rule.
--
-- A link is a query_articles row whose query_id is a claim id (broad ingestion queries such as
-- ketamine.all are not claims). Its direction is the one the tagger in force gave for that
-- claim, or 'untagged'.
--
-- A link is indirect when the claim names conditions, the record is about registry conditions
-- (v_article_conditions), and none of its most specific ones is a condition the claim names:
-- a treatment-resistant-depression trial linked to the general depression claim, a PTSD trial
-- linked to a depression claim.
CREATE OR REPLACE VIEW v_evidence_links_live AS
WITH links AS (
    SELECT q.query_id AS claim_id, q.pmid
    FROM query_articles q
    SEMI JOIN claims c ON c.claim_id = q.query_id
),
record_conditions AS (
    SELECT pmid, list(condition_key) AS keys, list(condition ORDER BY condition) AS conditions
    FROM v_article_conditions
    WHERE is_most_specific
    GROUP BY pmid
),
claim_keys AS (
    SELECT claim_id, list(DISTINCT condition_key) AS keys
    FROM v_claim_conditions
    GROUP BY claim_id
)
SELECT l.claim_id, l.pmid, a.pub_year, a.is_retracted, a.design, a.population, a.sample_size,
       a.evidence_class, a.cebm_level,
       coalesce(d.direction, 'untagged') AS direction,
       d.confidence AS direction_confidence, d.evidence_sentence,
       coalesce(r.conditions, []::VARCHAR[]) AS conditions_found,
       coalesce(NOT list_has_any(r.keys, k.keys), FALSE) AS is_indirect,
       -- last, as migration 006 appended them to the stored table
       a.design_source, a.design_confidence
FROM links l
JOIN v_articles a USING (pmid)
LEFT JOIN v_claim_directions d ON d.pmid = l.pmid AND d.claim_id = l.claim_id
LEFT JOIN record_conditions r ON r.pmid = l.pmid
LEFT JOIN claim_keys k ON k.claim_id = l.claim_id;

-- Whether evidence_links is current. The fingerprint covers the view definitions (the rules)
-- and the size and state of the tables they read; pipeline.evidence.refresh() stores it, so a
-- different one now means the rules or the tables changed after the last refresh.
CREATE OR REPLACE VIEW v_evidence_status AS
WITH now AS (
    SELECT md5(concat_ws('|',
        (SELECT md5(string_agg(sql, ';' ORDER BY view_name)) FROM duckdb_views()
          WHERE NOT internal AND NOT temporary AND database_name = current_database()),
        (SELECT value FROM store_meta WHERE key = 'tagger_version'),
        (SELECT count(*) FROM articles),
        (SELECT count(*) FILTER (WHERE is_retracted) FROM articles),
        (SELECT max(date_revised) FROM articles),
        (SELECT count(*) FROM query_articles),
        (SELECT count(*) FROM tags),
        (SELECT count(*) FROM claim_directions),
        (SELECT count(*) FROM mesh_headings),
        (SELECT md5(string_agg(claim_id, ',' ORDER BY claim_id)) FROM claims),
        (SELECT md5(string_agg(concat_ws(',', claim_id, name, mesh, mesh_ui), ';'
                               ORDER BY claim_id, name, mesh, mesh_ui))
           FROM claim_conditions))) AS fingerprint
)
SELECT (SELECT value FROM store_meta WHERE key = 'evidence_refreshed_at') AS refreshed_at,
       (SELECT value FROM store_meta WHERE key = 'evidence_tagger_version') AS tagger_version,
       (SELECT count(*) FROM evidence_links) AS n_links,
       now.fingerprint,
       coalesce((SELECT value FROM store_meta WHERE key = 'evidence_fingerprint')
                = now.fingerprint, FALSE) AS is_current
FROM now;
