-- PostGIS peer, step 1: what a user does to answer "nearest hospital" from Code-Point Open.
-- COPY the raw rows, transform British National Grid to WGS84 with ST_Transform through the
-- OSTN15 grid (SRID 927700, defined in setup.sql), keep a geography column, index it (GiST)
-- and the postcode (btree primary key). Timed as a whole by benchmarks/run; the raw CSV is
-- piped in on stdin from `unzip -p codepo_gb.zip 'Data/CSV/*.csv'`.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
DROP TABLE IF EXISTS postcodes, codepoint_raw;
BEGIN;
CREATE TABLE codepoint_raw (postcode text, quality int, eastings int, northings int,
    country text, nhs_region text, nhs_ha text, county text, district text, ward text);
\copy codepoint_raw FROM pstdin WITH (FORMAT csv)
COMMIT;
-- Canonical "OUTWARD INWARD" spelling, as our index keys it; quality 90 has no coordinates.
CREATE TABLE postcodes AS
SELECT left(replace(postcode, ' ', ''), -3) || ' ' || right(replace(postcode, ' ', ''), 3) AS postcode,
       quality, country,
       CASE WHEN quality <> 90 THEN
           ST_Transform(ST_SetSRID(ST_MakePoint(eastings, northings), 927700), 4326)::geography
       END AS geog
FROM codepoint_raw;
ALTER TABLE postcodes ADD PRIMARY KEY (postcode);
CREATE INDEX postcodes_geog ON postcodes USING gist (geog);
DROP TABLE codepoint_raw;
ANALYZE postcodes;
