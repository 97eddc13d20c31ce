-- Current rows of some stations (closed ones included: a patch must learn that they closed).
SELECT s.id,
       ST_X(s.geom) AS lon,
       ST_Y(s.geom) AS lat,
       s.h3_r5,
       s.h3_r7,
       s.name,
       s.brand,
       s.address,
       s.grades,
       s.status,
       s.opening_hours::text AS opening_hours,
       s.timezone
FROM stations AS s
WHERE s.id = ANY(%(ids)s)
ORDER BY s.id
