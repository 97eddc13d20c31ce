"""`python -m access.cli`: manage station credentials and partner accounts and keys.

  issue STATION_ID [--role station_admin|cashier|attendant]   a station staff credential (prints the token)
  revoke KEY_ID                                              revoke a station credential
  partner create NAME [--coord] [--language] [--rate] [--burst] [--daily-quota|--no-daily-quota]
  partner key-create PARTNER_ID --scopes stations:read,prices:read [--expires-in-hours H]
  partner key-rotate KEY_ID [--overlap-hours 24]             new key; the old one stays valid that long
  partner key-revoke KEY_ID                                  the key stops working on its next request
  partner list                                               partners and keys (never a secret)

A token is printed once, on its own line (stdout); everything else goes to stderr. Exit codes: 0 done,
1 nothing to revoke or rotate, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import Engine

from access import partners
from access.credentials import ROLES, issue, revoke
from db.engine import make_engine
from timekeeping.clock import SystemClock


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m access.cli",
        description=(__doc__ or "").splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join((__doc__ or "").splitlines()[2:]),
    )
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    commands = parser.add_subparsers(dest="command", required=True)
    station = commands.add_parser("issue", help="new credential for a station's staff")
    station.add_argument("station_id", type=int)
    station.add_argument("--role", choices=ROLES, default="station_admin")
    commands.add_parser("revoke", help="revoke a station credential").add_argument("key_id")
    partner = commands.add_parser("partner", help="partner accounts and keys")
    actions = partner.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="a new partner account")
    create.add_argument("name")
    create.add_argument("--coord", choices=partners.COORDS, default="wgs84")
    create.add_argument("--language", choices=partners.LANGUAGES, default="zh")
    create.add_argument("--rate", type=float, default=partners.DEFAULT_RATE_PER_SECOND, help="per second")
    create.add_argument("--burst", type=int, default=partners.DEFAULT_BURST)
    quota = create.add_mutually_exclusive_group()
    quota.add_argument("--daily-quota", type=int, default=partners.DEFAULT_DAILY_QUOTA)
    quota.add_argument("--no-daily-quota", action="store_true")
    key = actions.add_parser("key-create", help="a new key for a partner (prints the token)")
    key.add_argument("partner_id", type=int)
    key.add_argument("--scopes", required=True, help=", ".join(sorted(partners.SCOPES)))
    key.add_argument("--expires-in-hours", type=float, default=None)
    rotate = actions.add_parser("key-rotate", help="a new key; the old one stays valid for the overlap")
    rotate.add_argument("key_id")
    rotate.add_argument("--overlap-hours", type=float, default=24.0)
    actions.add_parser("key-revoke", help="revoke a key").add_argument("key_id")
    actions.add_parser("list", help="partners and their keys")
    return parser


def _partner(engine: Engine, args: argparse.Namespace) -> int:
    now = SystemClock().now()
    if args.action == "create":
        account = partners.create_partner(
            engine,
            args.name,
            coord=args.coord,
            language=args.language,
            rate_per_second=args.rate,
            burst=args.burst,
            daily_quota=None if args.no_daily_quota else args.daily_quota,
        )
        print(f"partner {account.partner_id} {account.name!r} created", file=sys.stderr)
        print(account.partner_id)
        return 0
    if args.action == "key-create":
        expires = None if args.expires_in_hours is None else now + timedelta(hours=args.expires_in_hours)
        issued = partners.create_key(engine, args.partner_id, args.scopes.split(","), expires_at=expires)
        print(f"key {issued.key_id} ({', '.join(sorted(issued.scopes))}): shown once", file=sys.stderr)
        print(issued.token)
        return 0
    if args.action == "key-rotate":
        try:
            issued = partners.rotate_key(engine, args.key_id, now, timedelta(hours=args.overlap_hours))
        except partners.KeyNotFound as exc:
            print(exc, file=sys.stderr)
            return 1
        print(
            f"key {issued.key_id} replaces {args.key_id} (valid {args.overlap_hours:g} h more): shown once",
            file=sys.stderr,
        )
        print(issued.token)
        return 0
    if args.action == "key-revoke":
        done = partners.revoke_key(engine, args.key_id, now)
        print(f"key {args.key_id} {'revoked' if done else 'not found or revoked already'}", file=sys.stderr)
        return 0 if done else 1
    listed = partners.list_partners(engine)
    for account, keys in listed:
        quota = "no daily quota" if account.daily_quota is None else f"{account.daily_quota}/day"
        print(
            f"{account.partner_id}\t{account.name}\t{account.coord}\t{account.language}\t"
            f"{account.rate_per_second:g}/s burst {account.burst}\t{quota}"
        )
        for k in keys:
            state = (
                "revoked"
                if k.revoked_at is not None
                else "expired"
                if k.expires_at is not None and k.expires_at <= now
                else f"valid until {k.expires_at.isoformat()}"
                if k.expires_at is not None
                else "live"
            )
            print(f"\tkey {k.key_id}\t{','.join(sorted(k.scopes))}\t{state}")
    print(f"{len(listed)} partner(s)", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("no database: pass --database-url or set DATABASE_URL")
    engine = make_engine(args.database_url, pool_size=1)
    try:
        if args.command == "issue":
            issued = issue(engine, args.station_id, args.role)
            print(f"credential {issued.key_id} ({args.role}) for station {args.station_id}", file=sys.stderr)
            print(issued.token)
            return 0
        if args.command == "revoke":
            return 0 if revoke(engine, args.key_id) else 1
        try:
            return _partner(engine, args)
        except partners.PartnerError as exc:
            parser.error(str(exc))
    finally:
        engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
