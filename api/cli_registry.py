"""`sohoa keys | report | lookup | link | verify | revoke | supersede`: the registry from
the command line. The CLI is local and needs no API key; reads are still audited (as `cli`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def bootstrap_admin_key(settings: Any) -> None:
    """On first start, when no API key exists, create an admin key and print it once."""
    from storage.auth import create_key, has_keys
    from storage.db import make_engine, migrate, session_factory

    engine = make_engine(settings.db_url)
    migrate(engine)
    with session_factory(engine).begin() as session:
        if has_keys(session):
            return
        _key, token = create_key(session, "admin", "bootstrap")
    print(
        "sohoa: no API key existed, so an admin key was created. It is shown only now:\n"
        f"    {token}\n"
        "Send it as 'X-API-Key: <key>'; create more with `sohoa keys create --role clerk`.",
        file=sys.stderr,
        flush=True,
    )


def _context():  # type: ignore[no-untyped-def]
    from api.pipeline import Context
    from api.settings import Settings

    return Context.from_settings(Settings())


def _print_json(doc: object) -> None:
    json.dump(doc, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def cmd_keys(args: argparse.Namespace) -> int:
    from storage.auth import create_key, list_keys, revoke_key

    with _context().sessions.begin() as session:
        if args.keys_command == "create":
            types = args.types.split(",") if args.types else None
            try:
                key, token = create_key(session, args.role, args.name, types)
            except ValueError as exc:
                print(f"sohoa: {exc}", file=sys.stderr)
                return 2
            print(token)
            print(f"sohoa: {key.role} key {key.id} created; it is shown only now", file=sys.stderr)
        elif args.keys_command == "list":
            for k in list_keys(session):
                state = "revoked" if k.revoked_at else "active"
                types = ",".join(k.allowed_types or []) or "-"
                print(f"{k.id}\t{k.role}\t{state}\t{types}\t{k.name}")
        elif not revoke_key(session, args.id):
            print(f"sohoa: no key {args.id}", file=sys.stderr)
            return 1
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from datetime import datetime

    from storage.report import GROUPS, report

    groups = tuple(args.by.split(",")) if args.by else GROUPS
    if not set(groups) <= set(GROUPS):
        print(f"sohoa: --by takes {','.join(GROUPS)}", file=sys.stderr)
        return 2
    since = datetime.fromisoformat(args.since) if args.since else None
    until = datetime.fromisoformat(args.until) if args.until else None
    with _context().sessions() as session:
        rows = report(session, since=since, until=until, period=args.period, group_by=groups)
    out = [
        {**vars(r), "digitization_rate": r.digitization_rate, "reuse_rate": r.reuse_rate}
        for r in rows
    ]
    if args.json:
        _print_json({"period": args.period, "group_by": list(groups), "rows": out})
        return 0
    print("period\tagency\ttype\treceived\tdigitized\treused\tdigitized %\treuse %")
    for r in out:
        cells = [r["period"] or "*", r["agency"] or "*", r["type"] or "*"]
        cells += [str(r["received"]), str(r["digitized"]), str(r["reused"])]
        cells += [f"{100 * r['digitization_rate']:.1f}", f"{100 * r['reuse_rate']:.1f}"]
        print("\t".join(cells))
    return 0


def _record_json(comp: Any) -> dict[str, Any]:
    from api.routes_registry import record_out

    return record_out(comp).model_dump()


def cmd_lookup(args: argparse.Namespace) -> int:
    from api.routes_registry import OWNER_ID
    from storage import audit
    from storage.reuse import look_up

    if not OWNER_ID.match(args.owner):
        print("sohoa: owner ID must be 12 digits (CCCD), 9 (CMND) or a tax code", file=sys.stderr)
        return 2
    with _context().sessions.begin() as session:
        try:
            found = look_up(session, args.owner, args.procedure)
        except KeyError as exc:
            print(f"sohoa: {exc.args[0]}", file=sys.stderr)
            return 2
        audit.record(
            session,
            actor="cli",
            role="clerk",
            action="lookup",
            subject=args.owner,
            purpose=args.purpose,
            detail=f"procedure={args.procedure}",
        )
        _print_json(
            {
                "procedure": found.procedure.code,
                "documents": [_record_json(d) for d in found.documents],
                "available": found.available,
                "missing": found.missing,
            }
        )
    return 0


def cmd_link(args: argparse.Namespace) -> int:
    from storage.reuse import ReuseError, link_document, open_dossier

    with _context().sessions.begin() as session:
        try:
            if args.procedure:
                open_dossier(session, args.dossier, args.procedure)
            lk, created = link_document(session, args.dossier, args.document, actor="cli")
        except KeyError as exc:
            print(f"sohoa: no such document or procedure: {exc.args[0]}", file=sys.stderr)
            return 1
        except ReuseError as exc:
            print(f"sohoa: {exc}", file=sys.stderr)
            return 1
        doc = {"dossier": args.dossier, "document_id": args.document}
        _print_json({**doc, "type": lk.component_type, "created": created})
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    from storage.reuse import ReuseError, set_status
    from storage.tables import Component

    new = {"verify": "verified", "revoke": "revoked", "supersede": "superseded"}[args.action]
    with _context().sessions.begin() as session:
        comp = session.get(Component, args.document)
        if comp is None:
            print(f"sohoa: no document {args.document}", file=sys.stderr)
            return 1
        try:
            set_status(session, comp, new, actor="cli", reason=args.reason)
        except ReuseError as exc:
            print(f"sohoa: {exc}", file=sys.stderr)
            return 1
        session.flush()
        _print_json(_record_json(comp))
    return 0


def add_registry_commands(sub: Any) -> None:
    """Add the registry subcommands to `sohoa`'s subparsers."""
    k = sub.add_parser("keys", help="API keys of the HTTP API (stored hashed)")
    ks = k.add_subparsers(dest="keys_command", required=True)
    kc = ks.add_parser("create", help="create a key and print it (shown only once)")
    kc.add_argument("--role", required=True, choices=("clerk", "scanner", "system", "admin"))
    kc.add_argument("--name", default="", help="who or what holds the key")
    kc.add_argument("--types", help="system keys: comma-separated component types allowed")
    ks.add_parser("list", help="list keys (never their secrets)")
    kr = ks.add_parser("revoke", help="revoke a key by its id")
    kr.add_argument("id")
    k.set_defaults(func=cmd_keys)

    r = sub.add_parser("report", help="digitization and reuse rates by period, agency, type")
    r.add_argument("--period", choices=("year", "month", "day"), default="month")
    r.add_argument("--by", help="comma-separated subset of period,agency,type (default all)")
    r.add_argument("--since", help="ISO date, inclusive")
    r.add_argument("--until", help="ISO date, exclusive")
    r.add_argument("--json", action="store_true", help="print JSON on stdout")
    r.set_defaults(func=cmd_report)

    lk = sub.add_parser("lookup", help="look up first: reusable documents for a procedure")
    lk.add_argument("--owner", required=True, help="the citizen's ID number")
    lk.add_argument("--procedure", required=True, help="procedure code (storage/procedures.json)")
    lk.add_argument("--purpose", required=True, help="why (recorded in the audit trail)")
    lk.set_defaults(func=cmd_lookup)

    ln = sub.add_parser("link", help="reuse a registered document in a dossier (no new copy)")
    ln.add_argument("dossier")
    ln.add_argument("document", help="the registry record's id")
    ln.add_argument("--procedure", help="open the dossier for this procedure")
    ln.set_defaults(func=cmd_link)

    for action, text in (
        ("verify", "a clerk verifies a draft record"),
        ("revoke", "revoke a record"),
        ("supersede", "mark a record superseded"),
    ):
        a = sub.add_parser(action, help=text)
        a.add_argument("document")
        a.add_argument("--reason")
        a.set_defaults(func=cmd_record, action=action)
