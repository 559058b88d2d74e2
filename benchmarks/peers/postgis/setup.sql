-- PostGIS peer, set-up (untimed): the extension, the OSTN15 datum shift and the sites.
-- psql variable grid: absolute path of uk_os_OSTN15_NTv2_OSGBtoETRS.tif; stdin: the sites CSV
-- (id,lat,lon with a header, from `hloc_peers sites`).
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS postgis;
-- British National Grid with the OSTN15 NTv2 shift to ETRS89 (= WGS84 to well under our
-- 1 cm here): PostGIS hands proj4text to PROJ, which then transforms through the grid
-- (hgridshift) rather than the few-metre Helmert fallback. benchmarks/run verifies it.
DELETE FROM spatial_ref_sys WHERE srid = 927700;
INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text)
VALUES (927700, 'hloc', 927700, NULL,
        '+proj=tmerc +lat_0=49 +lon_0=-2 +k=0.9996012717 +x_0=400000 +y_0=-100000 +ellps=airy '
        || '+units=m +no_defs +nadgrids=' || :'grid');
DROP TABLE IF EXISTS sites;
CREATE TABLE sites (id text PRIMARY KEY, lat double precision, lon double precision);
\copy sites (id, lat, lon) FROM pstdin WITH (FORMAT csv, HEADER)
ALTER TABLE sites ADD COLUMN geog geography(Point, 4326);
UPDATE sites SET geog = ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography;
CREATE INDEX sites_geog ON sites USING gist (geog);
ANALYZE sites;
