-- How each claim's evidence accumulated, by publication year. Records without a year are
-- left out here (v_claim_summary counts them).
CREATE OR REPLACE VIEW v_claim_trend AS
SELECT claim_id, pub_year, n_records, n_retracted, n_human, n_human_supports,
       n_human_against, n_human_other, n_preclinical,
       (sum(n_human_supports) OVER w)::BIGINT AS cum_human_supports,
       (sum(n_human_against) OVER w)::BIGINT AS cum_human_against
FROM (
    SELECT claim_id, pub_year,
        count(*) FILTER (WHERE evidence_class <> 'retracted') AS n_records,
        count(*) FILTER (WHERE evidence_class = 'retracted') AS n_retracted,
        count(*) FILTER (WHERE evidence_class = 'human') AS n_human,
        count(*) FILTER (WHERE evidence_class = 'human' AND direction = 'supports') AS n_human_supports,
        count(*) FILTER (WHERE evidence_class = 'human'
                           AND direction IN ('contradicts', 'no_effect')) AS n_human_against,
        count(*) FILTER (WHERE evidence_class = 'human'
                           AND direction IN ('mixed', 'unclear', 'untagged')) AS n_human_other,
        count(*) FILTER (WHERE evidence_class IN ('animal', 'in_vitro')) AS n_preclinical
    FROM evidence_links
    WHERE pub_year IS NOT NULL
    GROUP BY claim_id, pub_year
)
WINDOW w AS (PARTITION BY claim_id ORDER BY pub_year);
