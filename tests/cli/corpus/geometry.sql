DROP TABLE IF EXISTS __T__geo;
CREATE TABLE __T__geo (g GEOMETRY, p POINT, l LINESTRING);
INSERT INTO __T__geo VALUES (ST_GeomFromText('POINT(1 2)'), POINT(0, 0), ST_GeomFromText('LINESTRING(0 0, 1 1, 2 0)')),
  (ST_GeomFromText('POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))'), POINT(-1.5, 3.25), NULL), (NULL, NULL, NULL);
SELECT * FROM __T__geo;
SELECT ST_AsText(g), ST_AsText(p), ST_X(p) FROM __T__geo;
DROP TABLE __T__geo;
