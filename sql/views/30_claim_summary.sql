-- One row per claim in the registry: how much evidence, of what kind, pointing which way, and
-- an automated GRADE-style certainty. Every rule is explained in docs/evidence-levels.md.
--
-- Certainty is judged on the claim's "body" of evidence: its human studies with a direction
-- (supports, contradicts, no_effect, mixed) in the best band present, where SR/MA and RCTs
-- start high, non-randomised controlled and cohort studies low, other clinical designs very
-- low (v_design_levels.grade_start). The body is rated down one step for each of
--   inconsistency  it points both ways and the smaller side is at least 1/4 of the two;
--   imprecision    fewer than 400 participants behind it;
--   indirectness   more than half of it is indirect for the claim.
CREATE OR REPLACE VIEW v_claim_summary AS
WITH cells AS (
    SELECT c.*, l.design_label, l.design_plural, l.grade_start, l.counts_participants,
           c.direction IN ('contradicts', 'no_effect') AS is_against,
           c.direction IN ('supports', 'contradicts', 'no_effect', 'mixed') AS has_direction
    FROM v_claim_design_direction c
    LEFT JOIN v_design_levels l USING (design)
),
totals AS (
    SELECT claim_id,
        sum(n_records) FILTER (WHERE evidence_class <> 'retracted') AS n_records,
        sum(n_records) FILTER (WHERE evidence_class = 'retracted') AS n_retracted,
        sum(n_records) FILTER (WHERE evidence_class = 'human') AS n_human,
        sum(n_records) FILTER (WHERE evidence_class = 'animal') AS n_animal,
        sum(n_records) FILTER (WHERE evidence_class = 'in_vitro') AS n_in_vitro,
        sum(n_records) FILTER (WHERE evidence_class = 'unclassified') AS n_unclassified,
        sum(n_records) FILTER (WHERE evidence_class = 'human' AND direction = 'supports') AS n_human_supports,
        sum(n_records) FILTER (WHERE evidence_class = 'human' AND direction = 'contradicts') AS n_human_contradicts,
        sum(n_records) FILTER (WHERE evidence_class = 'human' AND direction = 'no_effect') AS n_human_no_effect,
        sum(n_records) FILTER (WHERE evidence_class = 'human' AND direction = 'mixed') AS n_human_mixed,
        sum(n_records) FILTER (WHERE evidence_class = 'human'
                                 AND direction IN ('unclear', 'untagged')) AS n_human_unclear,
        sum(participants) FILTER (WHERE evidence_class = 'human' AND counts_participants
                                    AND direction = 'supports') AS participants_supporting,
        sum(participants) FILTER (WHERE evidence_class = 'human' AND counts_participants
                                    AND is_against) AS participants_not_supporting,
        min(cebm_level) FILTER (WHERE direction = 'supports'
                                  AND evidence_class IN ('human', 'animal', 'in_vitro')) AS best_supporting_level,
        max(grade_start) FILTER (WHERE evidence_class = 'human' AND has_direction) AS start_score
    FROM cells
    GROUP BY claim_id
),
body_cells AS (
    SELECT c.*
    FROM cells c
    JOIN totals t ON t.claim_id = c.claim_id AND c.grade_start = t.start_score
    WHERE c.evidence_class = 'human' AND c.has_direction
),
body AS (
    SELECT claim_id,
        sum(n_records) AS body_n,
        coalesce(sum(n_records) FILTER (WHERE direction = 'supports'), 0) AS body_for,
        coalesce(sum(n_records) FILTER (WHERE is_against), 0) AS body_against,
        sum(n_indirect) AS body_indirect,
        -- a synthesis pools its trials: its own sample size stands for the body when larger
        greatest(coalesce(sum(participants) FILTER (WHERE counts_participants), 0),
                 coalesce(max(max_sample_size) FILTER (WHERE NOT counts_participants), 0)) AS body_participants
    FROM body_cells
    GROUP BY claim_id
),
sides AS (  -- "2 meta-analyses and 14 RCTs (1,020 participants)": each side of each body
    SELECT claim_id, is_for,
        CASE len(parts) WHEN 1 THEN parts[1]
             ELSE array_to_string(parts[1:-2], ', ') || ' and ' || parts[-1] END
        || CASE WHEN participants > 0
                THEN ' (' || format('{:,}', participants) || ' participants)' ELSE '' END AS phrase
    FROM (
        SELECT claim_id, is_for,
            list(n || ' ' || CASE WHEN n = 1 THEN design_label ELSE design_plural END
                 ORDER BY cebm_level, design) AS parts,
            sum(participants) AS participants
        FROM (
            SELECT claim_id, direction = 'supports' AS is_for, design, design_label,
                   design_plural, cebm_level, sum(n_records) AS n,
                   coalesce(sum(participants) FILTER (WHERE counts_participants), 0) AS participants
            FROM body_cells
            WHERE direction = 'supports' OR is_against
            GROUP BY ALL
        )
        GROUP BY claim_id, is_for
    )
),
judged AS (
    SELECT c.claim_id, c.statement, c.kind,
        coalesce(t.n_records, 0) AS n_records, coalesce(t.n_retracted, 0) AS n_retracted,
        coalesce(t.n_human, 0) AS n_human, coalesce(t.n_animal, 0) AS n_animal,
        coalesce(t.n_in_vitro, 0) AS n_in_vitro, coalesce(t.n_unclassified, 0) AS n_unclassified,
        coalesce(t.n_human_supports, 0) AS n_human_supports,
        coalesce(t.n_human_contradicts, 0) AS n_human_contradicts,
        coalesce(t.n_human_no_effect, 0) AS n_human_no_effect,
        coalesce(t.n_human_mixed, 0) AS n_human_mixed,
        coalesce(t.n_human_unclear, 0) AS n_human_unclear,
        coalesce(t.participants_supporting, 0) AS participants_supporting,
        coalesce(t.participants_not_supporting, 0) AS participants_not_supporting,
        t.best_supporting_level, t.start_score,
        coalesce(b.body_n, 0) AS body_n, coalesce(b.body_for, 0) AS body_for,
        coalesce(b.body_against, 0) AS body_against,
        coalesce(b.body_indirect, 0) AS body_indirect,
        coalesce(b.body_participants, 0) AS body_participants,
        sf.phrase AS for_phrase, sa.phrase AS against_phrase
    FROM claims c
    LEFT JOIN totals t USING (claim_id)
    LEFT JOIN body b USING (claim_id)
    LEFT JOIN sides sf ON sf.claim_id = c.claim_id AND sf.is_for
    LEFT JOIN sides sa ON sa.claim_id = c.claim_id AND NOT sa.is_for
),
rated AS (
    SELECT *,
        CASE WHEN start_score IS NOT NULL THEN list_filter([
            CASE WHEN body_for > 0 AND body_against > 0
                  AND least(body_for, body_against) * 4 >= body_for + body_against
                 THEN 'inconsistency' END,
            CASE WHEN body_participants < 400 THEN 'imprecision' END,
            CASE WHEN body_indirect * 2 > body_n THEN 'indirectness' END
        ], lambda r: r IS NOT NULL) END AS reasons,
        CASE WHEN n_human = 0 THEN 'no human studies'
             WHEN start_score IS NULL THEN 'no clear direction'
             WHEN body_for > body_against THEN 'supported'
             WHEN body_against > body_for THEN 'not supported'
             WHEN body_for > 0 THEN 'conflicting'
             ELSE 'mixed results' END AS stance
    FROM judged
),
worded AS (
    SELECT r.*, g.certainty, s.certainty AS certainty_start,
        CASE stance
            WHEN 'no human studies' THEN 'no human studies found in the store'
                 || coalesce(' (other records: ' || nullif(array_to_string(list_filter([
                        CASE WHEN n_animal > 0 THEN n_animal || ' animal' END,
                        CASE WHEN n_in_vitro > 0 THEN n_in_vitro || ' in-vitro' END,
                        CASE WHEN n_unclassified > 0 THEN n_unclassified || ' not classified' END
                    ], lambda p: p IS NOT NULL), ', '), '') || ')', '')
            WHEN 'no clear direction' THEN n_human || ' human record'
                 || CASE WHEN n_human = 1 THEN '' ELSE 's' END
                 || ' found, no clinical study with a clear direction on this claim'
            WHEN 'supported' THEN 'supported by ' || for_phrase
                 || coalesce('; against: ' || against_phrase, '')
            WHEN 'not supported' THEN 'not supported: ' || against_phrase
                 || ' found no effect or the opposite' || coalesce('; for: ' || for_phrase, '')
            WHEN 'conflicting' THEN 'conflicting: ' || for_phrase || ' for, '
                 || against_phrase || ' against'
            ELSE 'only mixed results: ' || body_n || ' stud'
                 || CASE WHEN body_n = 1 THEN 'y' ELSE 'ies' END || ' found benefit on some outcomes only'
        END
        || CASE WHEN g.certainty IS NULL THEN ''
                ELSE '; certainty ' || g.certainty
                     || CASE WHEN len(reasons) > 0 THEN ': ' || array_to_string(reasons, ', ') ELSE '' END
           END
        || CASE n_retracted WHEN 0 THEN '' WHEN 1 THEN '; 1 retracted record excluded'
                ELSE '; ' || n_retracted || ' retracted records excluded' END AS verdict
    FROM rated r
    -- greatest() skips NULLs, so a claim with no body must not reach it
    LEFT JOIN v_certainty_levels g
           ON r.start_score IS NOT NULL AND g.score = greatest(1, r.start_score - len(r.reasons))
    LEFT JOIN v_certainty_levels s ON s.score = r.start_score
)
SELECT w.claim_id, w.statement, w.kind, w.stance, w.verdict, w.certainty,
       coalesce(w.reasons, []::VARCHAR[]) AS rated_down_for,
       CASE WHEN w.certainty IS NOT NULL
            THEN 'automated estimate, not a formal GRADE assessment' END AS certainty_note,
       w.certainty_start, w.best_supporting_level, lv.level_label AS best_supporting_level_label,
       w.n_records::BIGINT AS n_records, w.n_retracted::BIGINT AS n_retracted,
       w.n_human::BIGINT AS n_human, w.n_animal::BIGINT AS n_animal,
       w.n_in_vitro::BIGINT AS n_in_vitro, w.n_unclassified::BIGINT AS n_unclassified,
       w.n_human_supports::BIGINT AS n_human_supports,
       w.n_human_contradicts::BIGINT AS n_human_contradicts,
       w.n_human_no_effect::BIGINT AS n_human_no_effect,
       w.n_human_mixed::BIGINT AS n_human_mixed, w.n_human_unclear::BIGINT AS n_human_unclear,
       w.participants_supporting::BIGINT AS participants_supporting,
       w.participants_not_supporting::BIGINT AS participants_not_supporting,
       w.body_n::BIGINT AS body_n, w.body_for::BIGINT AS body_for,
       w.body_against::BIGINT AS body_against, w.body_indirect::BIGINT AS body_indirect,
       w.body_participants::BIGINT AS body_participants
FROM worded w
LEFT JOIN v_cebm_levels lv ON lv.cebm_level = w.best_supporting_level;
