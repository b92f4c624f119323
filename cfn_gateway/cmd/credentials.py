"""``cfn-gateway credentials create|list|delete``: the local credential store's CLI."""

from __future__ import annotations

import argparse
import json
import sys

from cfn_gateway.auth.credential_store import CREDENTIALS_FILE, Credential, CredentialStore
from cfn_gateway.config import data_path


def as_dict(credential: Credential) -> dict[str, str]:
    return {
        "AccessKeyId": credential.access_key,
        "SecretAccessKey": credential.secret_key,
        "Project": credential.project,
    }


def run(args: argparse.Namespace) -> int:
    store = CredentialStore(data_path(CREDENTIALS_FILE))
    if args.credentials_command == "create":
        credential = store.create(args.project)
        if args.json:
            print(json.dumps(as_dict(credential)))
        else:
            print(f"AccessKeyId:     {credential.access_key}")
            print(f"SecretAccessKey: {credential.secret_key}")
            print(f"Project:         {credential.project}")
        return 0
    if args.credentials_command == "list":
        credentials = store.list(args.project)
        if args.json:
            print(json.dumps([as_dict(c) for c in credentials]))
        else:
            for c in credentials:
                print(f"{c.access_key}  {c.project}  {c.created_at.isoformat()}")
        return 0
    if store.delete(args.access_key):
        if args.json:
            print(json.dumps({"Deleted": args.access_key}))
        return 0
    print(f"no credential {args.access_key}", file=sys.stderr)
    return 1
