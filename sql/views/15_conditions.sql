-- Conditions: what the registry's claims are about, and which of them each record is about.
-- They decide indirectness (docs/evidence-levels.md, "Indirectness").

-- A condition is keyed by its MeSH UI when the registry gives one (two claims naming the same
-- descriptor differently, "PTSD" and "post-traumatic stress disorder", are one condition), else
-- by its lower-cased name.
CREATE OR REPLACE VIEW v_claim_conditions AS
SELECT DISTINCT claim_id, coalesce(mesh_ui, lower(trim(name))) AS condition_key,
       name AS condition, mesh, mesh_ui
FROM (SELECT claim_id, name, nullif(trim(mesh), '') AS mesh, nullif(trim(mesh_ui), '') AS mesh_ui
      FROM claim_conditions);

-- Registry conditions each record is about: a MeSH heading with the condition's UI (or, for a
-- condition the registry gives no UI, its heading name), or the condition's name, heading or a
-- registry synonym as whole words in the title (case, hyphens and punctuation ignored). A match is most
-- specific unless the record also matches a narrower condition, narrower meaning that one of
-- its names contains one of the broader condition's names as whole words ("treatment-resistant
-- depression" ⊃ "depression"; "Depressive Disorder, Treatment-Resistant" ⊃ "Depressive Disorder").
CREATE OR REPLACE VIEW v_article_conditions AS
WITH terms AS (
    SELECT DISTINCT condition_key,
           ' ' || trim(regexp_replace(lower(term), '[^a-z0-9]+', ' ', 'g')) || ' ' AS words
    FROM (SELECT condition_key, condition AS term FROM v_claim_conditions
          UNION ALL
          SELECT condition_key, mesh FROM v_claim_conditions WHERE mesh IS NOT NULL
          UNION ALL  -- the registry's synonyms ("refractory depression" for TRD)
          SELECT coalesce(nullif(trim(mesh_ui), ''), lower(trim(name))), unnest(synonyms)
          FROM claim_conditions WHERE synonyms IS NOT NULL)
    WHERE trim(regexp_replace(lower(term), '[^a-z0-9]+', ' ', 'g')) <> ''
),
labels AS (
    SELECT condition_key, min(condition) AS condition
    FROM v_claim_conditions
    GROUP BY condition_key
),
contains_pairs AS (
    SELECT DISTINCT n.condition_key AS narrow_key, b.condition_key AS broad_key
    FROM terms n
    JOIN terms b ON n.condition_key <> b.condition_key AND contains(n.words, b.words)
),
narrower AS (  -- a pair found both ways names no order; it is left out
    SELECT p.* FROM contains_pairs p
    ANTI JOIN contains_pairs r ON r.narrow_key = p.broad_key AND r.broad_key = p.narrow_key
),
hits AS (
    SELECT m.pmid, k.condition_key, 'mesh' AS source
    FROM mesh_headings m
    JOIN (SELECT DISTINCT condition_key, mesh_ui FROM v_claim_conditions) k
      ON m.descriptor_ui = k.mesh_ui
    UNION ALL
    SELECT m.pmid, k.condition_key, 'mesh'
    FROM mesh_headings m
    JOIN (SELECT DISTINCT condition_key, lower(mesh) AS mesh_lc FROM v_claim_conditions
          WHERE mesh_ui IS NULL) k
      ON lower(m.descriptor) = k.mesh_lc
    UNION ALL
    SELECT a.pmid, t.condition_key, 'title'
    FROM (SELECT pmid, ' ' || regexp_replace(lower(title), '[^a-z0-9]+', ' ', 'g') || ' ' AS words
          FROM articles) a
    JOIN terms t ON contains(a.words, t.words)
),
matched AS (
    SELECT pmid, condition_key, bool_or(source = 'mesh') AS in_mesh,
           bool_or(source = 'title') AS in_title
    FROM hits
    GROUP BY pmid, condition_key
),
shadowed AS (
    SELECT DISTINCT m.pmid, n.broad_key AS condition_key
    FROM matched m JOIN narrower n ON n.narrow_key = m.condition_key
)
SELECT m.pmid, m.condition_key, l.condition, m.in_mesh, m.in_title,
       s.pmid IS NULL AS is_most_specific
FROM matched m
JOIN labels l USING (condition_key)
LEFT JOIN shadowed s USING (pmid, condition_key);
