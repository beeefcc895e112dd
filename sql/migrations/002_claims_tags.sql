-- The claims registry as loaded at the last run, and the taggers' output (versioned, so a new
-- tagger re-tags from the stored text without a re-fetch).

CREATE TABLE IF NOT EXISTS claims (
    claim_id             VARCHAR PRIMARY KEY,
    statement            VARCHAR NOT NULL,
    kind                 VARCHAR NOT NULL,
    population           VARCHAR,
    outcome              VARCHAR,
    supporting_direction VARCHAR,
    query                VARCHAR NOT NULL,
    sources              JSON
);

CREATE TABLE IF NOT EXISTS claim_conditions (
    claim_id VARCHAR NOT NULL,
    name     VARCHAR NOT NULL,
    mesh     VARCHAR,
    mesh_ui  VARCHAR
);

CREATE TABLE IF NOT EXISTS tags (
    pmid               BIGINT NOT NULL,
    tagger_version     VARCHAR NOT NULL,
    design             VARCHAR NOT NULL,
    design_confidence  DOUBLE,
    design_source      VARCHAR,
    population         VARCHAR NOT NULL,
    population_source  VARCHAR,
    sample_size        INTEGER,
    sample_size_text   VARCHAR,
    PRIMARY KEY (pmid, tagger_version)
);

CREATE TABLE IF NOT EXISTS claim_directions (
    pmid              BIGINT NOT NULL,
    claim_id          VARCHAR NOT NULL,
    tagger_version    VARCHAR NOT NULL,
    direction         VARCHAR NOT NULL,
    evidence_sentence VARCHAR,
    confidence        DOUBLE,
    PRIMARY KEY (pmid, claim_id, tagger_version)
);

-- Facts about the store itself: tagger_version in force, data_as_of, origin (live | snapshot).
CREATE TABLE IF NOT EXISTS store_meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR
);
