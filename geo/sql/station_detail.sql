-- One station in full: identity, place, hours, services, and its fueling positions with nozzles.
SELECT s.id,
       s.name,
       s.brand,
       s.address,
       s.province,
       s.city,
       s.county,
       s.adcode,
       ST_X(s.geom) AS lon,
       ST_Y(s.geom) AS lat,
       s.h3_r9,
       s.timezone,
       s.opening_hours,
       s.services,
       s.grades,
       s.status,
       s.updated_at,
       COALESCE((
           SELECT json_agg(json_build_object('source', i.source, 'external_id', i.external_id)
                           ORDER BY i.source, i.external_id)
           FROM station_identifiers AS i
           WHERE i.station_id = s.id
       ), '[]'::json) AS identifiers,
       COALESCE((
           SELECT json_agg(json_build_object(
                      'number', p.number,
                      'nozzles', (
                          SELECT json_agg(json_build_object('number', n.number, 'grade', n.grade)
                                          ORDER BY n.number)
                          FROM nozzles AS n
                          WHERE n.position_id = p.id
                      )) ORDER BY p.number)
           FROM fueling_positions AS p
           WHERE p.station_id = s.id
       ), '[]'::json) AS positions
FROM stations AS s
WHERE s.id = :id
