-- Stations as a partner receives them: the record, its current prices (the open-ended windows, as the
-- workers' price book holds them) and the partner's own POI id. partners/stations.py appends the filter.
-- Each station leaves as the JSON text every answer shows, in two parts around its location (`head`
-- ends before it, `tail` follows it), which partners/stations.py writes in the partner's coordinate
-- system (GCJ-02 and BD-09 are not PostgreSQL's). Times are RFC 3339 in UTC with milliseconds,
-- truncated as isoformat does; prices half-up to the currency's places (pricing.money.price_text).
-- Building the text here leaves the API worker streaming a national snapshot only bytes to join: it
-- once built a dict per station and serialised it, about 12 s of a worker's CPU for 120,000 stations.
SELECT s.id,
       ST_X(s.geom) AS lon,
       ST_Y(s.geom) AS lat,
       '{"id":' || s.id
         || ',"poi_id":' || coalesce(to_json(poi.poi_id)::text, 'null')
         || ',"name":' || coalesce(to_json(s.name)::text, 'null')
         || ',"brand":' || coalesce(to_json(s.brand)::text, 'null')
         || ',"address":' || coalesce(to_json(s.address)::text, 'null')
         || ',"province":' || coalesce(to_json(s.province)::text, 'null')
         || ',"city":' || coalesce(to_json(s.city)::text, 'null')
         || ',"county":' || coalesce(to_json(s.county)::text, 'null')
         || ',"adcode":' || coalesce(to_json(s.adcode)::text, 'null') AS head,
       '"status":' || coalesce(to_json(s.status)::text, 'null')
         || ',"grades":' || coalesce(array_to_json(s.grades)::text, '[]')
         || ',"services":' || coalesce(array_to_json(s.services)::text, '[]')
         || ',"timezone":' || coalesce(to_json(s.timezone)::text, 'null')
         || ',"opening_hours":' || coalesce(s.opening_hours::text, 'null')
         || ',"updated_at":'
         || coalesce(to_json(
                to_char(s.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"+00:00"')
            )::text, 'null')
         || ',"prices":[' || coalesce(pr.items, '') || ']}' AS tail
FROM stations AS s
LEFT JOIN partner_poi_ids AS poi ON poi.partner_id = :partner_id AND poi.station_id = s.id
LEFT JOIN LATERAL (
    SELECT string_agg(
               '{"grade":' || to_json(sp.grade)::text
               || ',"tier":' || coalesce(to_json(sp.tier)::text, 'null')
               || ',"price":"' || round(sp.price, CASE WHEN sp.currency = 'EUR' THEN 3 ELSE 2 END)::text
               || '","currency":' || to_json(sp.currency)::text
               || ',"effective_from":' || coalesce(to_json(
                      to_char(sp.effective_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"+00:00"')
                  )::text, 'null')
               || ',"confirmed_at":' || coalesce(to_json(
                      to_char(sp.confirmed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"+00:00"')
                  )::text, 'null')
               || '}',
               ',' ORDER BY sp.grade, sp.tier) AS items
    FROM station_prices AS sp
    WHERE sp.station_id = s.id AND sp.effective_to IS NULL
) AS pr ON true
