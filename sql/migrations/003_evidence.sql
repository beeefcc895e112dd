-- The evidence behind each claim, one row per (claim, record) link, as computed by the view
-- v_evidence_links_live (sql/views/20_evidence_links.sql). pipeline.evidence.refresh()
-- recomputes it after tagging, before a snapshot is published: the summary views then read a
-- narrow stored table instead of re-joining every link, record, tag, direction and MeSH heading
-- on each query (measured in `make bench`). v_evidence_status says whether it is current.
CREATE TABLE IF NOT EXISTS evidence_links (
    claim_id             VARCHAR NOT NULL,
    pmid                 BIGINT NOT NULL,
    pub_year             INTEGER,
    is_retracted         BOOLEAN,
    design               VARCHAR,
    population           VARCHAR,
    sample_size          INTEGER,
    evidence_class       VARCHAR NOT NULL,
    cebm_level           INTEGER,
    direction            VARCHAR NOT NULL,
    direction_confidence DOUBLE,
    evidence_sentence    VARCHAR,
    conditions_found     VARCHAR[],
    is_indirect          BOOLEAN NOT NULL
);
