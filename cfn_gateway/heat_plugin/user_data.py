"""The user data a launch configuration hands the gateway: pure rules, no Heat.

Heat builds an instance's user data as a MIME multipart (cloud-init config, boot hook,
part handler, the template's UserData, the resolved ``AWS::CloudFormation::Init``
metadata, the metadata server's URL and ``cfn-boto-cfg``, the boto configuration the
heat-cfntools agents read).  Heat 27 writes no CloudWatch endpoint into ``cfn-boto-cfg``,
so cfn-push-stats would post to AWS's own host; :func:`with_cloudwatch_endpoint` adds the
gateway's host (the agents use port 8003 over http, whatever the host).  The Auto Scaling
API takes the user data as base64 text of at most :data:`MAX_USER_DATA` characters.
"""

from __future__ import annotations

import base64
import email
from email.mime.text import MIMEText
from email.utils import collapse_rfc2231_value

#: Auto Scaling's limit on UserData (botocore's model, shape XmlStringUserData): the
#: characters of the base64 text.
MAX_USER_DATA = 21847
#: The multipart member the heat-cfntools agents read as their boto configuration.
BOTO_CFG_FILENAME = "cfn-boto-cfg"
#: Region name written beside the endpoint (what Heat wrote before it dropped the lines).
CLOUDWATCH_REGION_NAME = "heat"

_CW_KEYS = ("cloudwatch_region_name", "cloudwatch_region_endpoint")


class UserDataError(ValueError):
    """User data the gateway cannot take; the text says why."""


def boto_cfg_with_endpoint(text: str, host: str,
                           region_name: str = CLOUDWATCH_REGION_NAME) -> str:
    """``text`` (an ini file) whose ``[Boto]`` section names ``host`` as CloudWatch's
    endpoint; lines already naming a CloudWatch region or endpoint are replaced."""
    if not host or any(c.isspace() for c in host):
        raise UserDataError(f"{host!r} is not a host name for the instances' CloudWatch "
                            "endpoint")
    lines = [line for line in text.splitlines()
             if line.split("=", 1)[0].strip().lower() not in _CW_KEYS]
    added = [f"{_CW_KEYS[0]} = {region_name}", f"{_CW_KEYS[1]} = {host}"]
    section = next((i for i, line in enumerate(lines)
                    if line.strip().lower() == "[boto]"), None)
    if section is None:
        lines = ["[Boto]", *added, *lines]
    else:
        end = section + 1
        while end < len(lines) and not lines[end].lstrip().startswith("["):
            end += 1
        while end > section + 1 and not lines[end - 1].strip():
            end -= 1        # before the blank lines that close the section
        lines[end:end] = added
    return "\n".join(lines)


def with_cloudwatch_endpoint(multipart: str, host: str) -> str:
    """The multipart user data ``multipart`` with its ``cfn-boto-cfg`` part naming
    ``host`` as the CloudWatch endpoint; every other part is left as it is."""
    message = email.message_from_string(multipart)
    if not message.is_multipart():
        raise UserDataError("the user data is not a MIME multipart")
    parts = message.get_payload()
    found = False
    for i, part in enumerate(parts):
        if _filename(part) != BOTO_CFG_FILENAME:
            continue
        found = True
        charset = part.get_content_charset() or "us-ascii"
        text = part.get_payload(decode=True).decode(charset)
        new_text = boto_cfg_with_endpoint(text, host)
        replacement = _text_part(new_text, part.get_content_subtype())
        replacement.add_header("Content-Disposition", "attachment",
                               filename=BOTO_CFG_FILENAME)
        parts[i] = replacement
    if not found:
        raise UserDataError(f"the user data has no {BOTO_CFG_FILENAME} part (not the "
                            "heat-cfntools format)")
    return message.as_string()


def encode(user_data: str) -> str:
    """``user_data`` as the base64 text Auto Scaling takes; too long is an error."""
    encoded = base64.b64encode(user_data.encode("utf-8")).decode("ascii")
    if len(encoded) > MAX_USER_DATA:
        raise UserDataError(
            f"the instances' user data is {len(encoded)} characters in base64, over Auto "
            f"Scaling's limit of {MAX_USER_DATA}; it holds the template's UserData and "
            "the resource's AWS::CloudFormation::Init metadata (as cfn-init-data) besides "
            "heat-cfntools' own parts: make them smaller")
    return encoded


def part_text(multipart: str, filename: str) -> str | None:
    """The decoded text of the part named ``filename`` of a multipart (for tests and
    checks), None when there is none."""
    message = email.message_from_string(multipart)
    for part in message.walk():
        if not part.is_multipart() and _filename(part) == filename:
            payload = part.get_payload(decode=True)
            return payload.decode(part.get_content_charset() or "us-ascii")
    return None


def _filename(part) -> str | None:
    name = part.get_param("filename", header="content-disposition")
    if name is None:
        return None
    return collapse_rfc2231_value(name)


def _text_part(text: str, subtype: str) -> MIMEText:
    try:
        text.encode("us-ascii")
        charset = "us-ascii"
    except UnicodeEncodeError:
        charset = "utf-8"
    return MIMEText(text, _subtype=subtype, _charset=charset)

