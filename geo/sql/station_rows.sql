-- A station row of the in-memory index; geo/repository.py appends the filter and the order.
SELECT s.id,
       ST_X(s.geom) AS lon,
       ST_Y(s.geom) AS lat,
       s.h3_r5,
       s.h3_r7,
       s.name,
       s.brand,
       s.address,
       s.province,
       s.city,
       s.county,
       s.adcode,
       s.services,
       s.grades,
       s.status,
       s.opening_hours::text AS opening_hours,
       s.timezone
FROM stations AS s
