"""``cfn-gateway``: the console entry point (``serve``, ``engine`` and ``credentials``)."""

from __future__ import annotations

import argparse
import sys

from cfn_gateway.config import CONF, DEFAULT_DATA_DIR


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cfn-gateway",
        description="AWS CloudWatch and Auto Scaling APIs for OpenStack, or standalone.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the gateway (standalone by default)")
    serve.add_argument("--host", help="listen address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default 8080)")
    serve.add_argument("--workers", type=int, help="worker processes (default 2)")
    serve.add_argument("--threads", type=int, help="threads per worker (default by mode)")
    add_common(serve)

    engine = sub.add_parser("engine", help="run the alarm engine alone (standalone mode)")
    engine.add_argument("--once", action="store_true",
                        help="one evaluation and action pass, then exit")
    engine.add_argument("--now", help="with --once: evaluate as at this ISO 8601 time")
    add_common(engine)

    creds = sub.add_parser("credentials", help="manage local EC2-style credentials")
    creds_sub = creds.add_subparsers(dest="credentials_command", required=True)
    create = creds_sub.add_parser("create", help="create a credential for a project")
    create.add_argument("--project", required=True, help="the project that owns it")
    add_common(create)
    listing = creds_sub.add_parser("list", help="list credentials")
    listing.add_argument("--project", help="only this project's")
    add_common(listing)
    delete = creds_sub.add_parser("delete", help="delete a credential")
    delete.add_argument("access_key", help="the AccessKeyId to delete")
    add_common(delete)
    return parser


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help=f"data folder (default {DEFAULT_DATA_DIR})")
    parser.add_argument("--config", help="an oslo.config file (cfn-gateway.conf)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def load_config(args: argparse.Namespace) -> None:
    """Fill CONF from the config file, then let command-line flags win."""
    CONF([], project="cfn-gateway", default_config_files=[args.config] if args.config else [])
    for option in ("host", "port", "workers", "threads", "data_dir"):
        value = getattr(args, option, None)
        if value is not None:
            CONF.set_override(option, value)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    load_config(args)
    if args.command == "serve":
        from cfn_gateway.cmd.serve import serve

        return serve()
    if args.command == "engine":
        from cfn_gateway.cmd.engine import run as run_engine

        return run_engine(args)
    from cfn_gateway.cmd.credentials import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
