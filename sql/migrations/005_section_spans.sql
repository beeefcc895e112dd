-- A section's text is already in articles.abstract (one `LABEL: text` line per section), and
-- storing it twice made abstracts the bulk of every load and checkpoint. A section now keeps
-- where its text sits in the abstract (0-based code points); v_abstract_sections reads it back.
CREATE TABLE abstract_section_spans (
    pmid         BIGINT NOT NULL,
    idx          INTEGER NOT NULL,
    label        VARCHAR,
    nlm_category VARCHAR,
    text_start   INTEGER NOT NULL,
    text_length  INTEGER NOT NULL
);

INSERT INTO abstract_section_spans
SELECT pmid, idx, label, nlm_category,
       coalesce(sum(length(coalesce(label || ': ', '')) + length(coalesce(text, '')) + 1)
                    OVER (PARTITION BY pmid ORDER BY idx
                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
           + length(coalesce(label || ': ', '')),
       length(coalesce(text, ''))
FROM abstract_sections;

DROP TABLE abstract_sections;
