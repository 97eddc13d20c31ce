INSERT INTO waiting_reports (station_id, waiting_vehicles, ts)
SELECT :station_id, u.waiting_vehicles, u.ts
FROM unnest(CAST(:counts AS smallint[]), CAST(:ts AS timestamptz[])) AS u(waiting_vehicles, ts)
ON CONFLICT (station_id, ts) DO NOTHING
RETURNING id, ts
