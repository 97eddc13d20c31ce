"""Side files of the French feed, keyed by station id: grades, services, opening hours, closures.

prix.csv (priced fuels) and ruptures.csv (fuels out of stock) together give the grades a station sells;
services_text.csv labels are mapped onto geo/services.py codes where the meaning is clear;
jour_and_horaires.csv holds one row per day (first interval only); fermetures.csv lists closures, active
on the feed date.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from geo.errors import InvalidHours
from geo.hours import DAYS, OpeningHours
from ingest.items import BadRow, SourceError

GRADES = {"Gazole": "B7", "SP95": "95", "SP98": "98", "E10": "E10", "E85": "E85", "GPLc": "LPG"}
SERVICES = {
    "Boutique alimentaire": "convenience_store",
    "Lavage automatique": "car_wash",
    "Lavage manuel": "car_wash",
    "Toilettes publiques": "toilet",
    "Bornes électriques": "ev_charging",
    "DAB (Distributeur automatique de billets)": "atm",
    "Restauration à emporter": "restaurant",
    "Restauration sur place": "restaurant",
    "Station de gonflage": "air_pump",
    "Piste poids lourds": "truck_lane",
    "Wifi": "wifi",
    "Services réparation / entretien": "repair",
    "Vente de gaz domestique (Butane, Propane)": "lpg",
    "Automate CB 24/24": "pay_at_pump",
}
SIDE_FILES = ("prix.csv", "ruptures.csv", "services_text.csv", "jour_and_horaires.csv", "fermetures.csv")


@dataclass
class Extras:
    grades: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    services: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    days: dict[str, dict[int, tuple[str, str, bool]]] = field(default_factory=lambda: defaultdict(dict))
    closed: set[str] = field(default_factory=set)

    def hours(self, station_id: str) -> OpeningHours | None:
        """None when no day carries times (unknown); days without times are closed otherwise."""
        days = self.days.get(station_id, {})
        if not any(opens and not shut for opens, _, shut in days.values()):
            return None
        weekly = {
            DAYS[day - 1]: [[opens.replace(".", ":"), closes.replace(".", ":")]]
            for day, (opens, closes, shut) in days.items()
            if opens and closes and not shut
        }
        try:
            return OpeningHours.from_json({"weekly": weekly})
        except InvalidHours as exc:
            raise BadRow(f"bad hours in jour_and_horaires.csv: {exc}") from None


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def load_extras(folder: Path) -> Extras:
    missing = [name for name in SIDE_FILES if not (folder / name).is_file()]
    if missing:
        raise SourceError(f"{folder}: French feed side file(s) missing: {', '.join(missing)}")
    extras = Extras()
    prices = _rows(folder / "prix.csv")
    for row in prices + _rows(folder / "ruptures.csv"):
        grade = GRADES.get(row["nom"])
        if grade:
            extras.grades[row["station_id"]].add(grade)
    for row in _rows(folder / "services_text.csv"):
        code = SERVICES.get(row["service"])
        if code:
            extras.services[row["station_id"]].add(code)
    for row in _rows(folder / "jour_and_horaires.csv"):
        day = int(row["id"])
        if 1 <= day <= 7:
            extras.days[row["station_id"]][day] = (row["ouverture"], row["fermeture"], row["ferme"] == "1")
    # The feed date: the newest price update in the snapshot.
    as_of = max((row["maj"][:10] for row in prices if row["maj"]), default="9999-12-31")
    for row in _rows(folder / "fermetures.csv"):
        if row["debut"][:10] <= as_of and (not row["fin"] or row["fin"][:10] >= as_of):
            extras.closed.add(row["station_id"])
    return extras
