-- Stations as a partner receives them: the record, its current prices (the open-ended windows, as the
-- workers' price book holds them) and the partner's own POI id. partners/stations.py appends the filter.
-- Times and prices leave as the text every answer shows (RFC 3339 in UTC with milliseconds, truncated as
-- isoformat does; prices half-up to the currency's places, pricing.money.price_text): parsing 1.3 million
-- timestamps into datetimes and formatting them again was over half of a national snapshot's CPU.
SELECT s.id,
       ST_X(s.geom) AS lon,
       ST_Y(s.geom) AS lat,
       s.name,
       s.brand,
       s.address,
       s.province,
       s.city,
       s.county,
       s.adcode,
       s.status,
       s.grades,
       s.services,
       s.timezone,
       s.opening_hours::text AS opening_hours,
       to_char(s.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"+00:00"') AS updated_at,
       (SELECT p.poi_id FROM partner_poi_ids AS p
        WHERE p.partner_id = :partner_id AND p.station_id = s.id) AS poi_id,
       pr.grades AS price_grades,
       pr.tiers AS price_tiers,
       pr.prices AS price_values,
       pr.currencies AS price_currencies,
       pr.effective_from AS price_effective_from,
       pr.confirmed_at AS price_confirmed_at
FROM stations AS s
LEFT JOIN LATERAL (
    SELECT array_agg(sp.grade ORDER BY sp.grade, sp.tier) AS grades,
           array_agg(sp.tier ORDER BY sp.grade, sp.tier) AS tiers,
           array_agg(round(sp.price, CASE WHEN sp.currency = 'EUR' THEN 3 ELSE 2 END)::text
                     ORDER BY sp.grade, sp.tier) AS prices,
           array_agg(sp.currency ORDER BY sp.grade, sp.tier) AS currencies,
           array_agg(to_char(sp.effective_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"+00:00"')
                     ORDER BY sp.grade, sp.tier) AS effective_from,
           array_agg(to_char(sp.confirmed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"+00:00"')
                     ORDER BY sp.grade, sp.tier) AS confirmed_at
    FROM station_prices AS sp
    WHERE sp.station_id = s.id AND sp.effective_to IS NULL
) AS pr ON true
