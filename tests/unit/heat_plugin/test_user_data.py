"""The launch configuration's user data: the CloudWatch endpoint in cfn-boto-cfg, base64,
Auto Scaling's size limit (no Heat needed; the multipart is built with the stdlib as
Heat's nova client plugin builds it)."""

from __future__ import annotations

import base64
import email
import json
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from cfn_gateway.heat_plugin import client
from cfn_gateway.heat_plugin import user_data as ud

# What Heat 27 writes into cfn-boto-cfg (no CloudWatch lines).
HEAT_BOTO_CFG = "\n".join([
    "[Boto]", "debug = 0", "is_secure = False", "https_validate_certificates = True",
    "cfn_region_name = heat", "cfn_region_endpoint = 127.0.0.1",
])
METADATA = {"AWS::CloudFormation::Init": {"config": {"files": {
    "/etc/cfn/cfn-credentials": {"content": "AWSAccessKeyId=k\nAWSSecretKey=s\n",
                                 "mode": "000400"},
    "/tmp/stats-crontab.txt": {"content": "* * * * * cfn-push-stats --watch MEMAlarmHigh "
                                          "--mem-util\n"}}}}}


def _part(content: str, filename: str, subtype: str) -> MIMEText:
    try:
        content.encode("us-ascii")
        charset = "us-ascii"
    except UnicodeEncodeError:
        charset = "utf-8"
    part = MIMEText(content, _subtype=subtype, _charset=charset)
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def heat_like_multipart(boto_cfg: str = HEAT_BOTO_CFG, user_data: str = "#!/bin/sh\necho hi\n",
                        metadata=METADATA) -> str:
    parts = [
        _part("#cloud-config\nuser: ec2-user\n", "cloud-config", "cloud-config"),
        _part("#!/bin/bash\nmkdir -p /var/lib/heat-cfntools\n", "boothook.sh",
              "cloud-boothook"),
        _part("# part handler\n", "part-handler.py", "part-handler"),
        _part(user_data, "cfn-userdata", "x-cfninitdata"),
        _part("#!/usr/bin/env python3\n", "loguserdata.py", "x-shellscript"),
        _part(json.dumps(metadata), "cfn-init-data", "x-cfninitdata"),
        _part("http://127.0.0.1:8000/v1/", "cfn-metadata-server", "x-cfninitdata"),
        _part(boto_cfg, "cfn-boto-cfg", "x-cfninitdata"),
    ]
    return MIMEMultipart(_subparts=parts).as_string()


def _parts(multipart: str) -> dict[str, tuple[str, str]]:
    message = email.message_from_string(multipart)
    return {p.get_filename(): (p.get_content_type(),
                               p.get_payload(decode=True).decode(p.get_content_charset()))
            for p in message.get_payload()}


def test_endpoint_added_to_boto_cfg_and_nothing_else_changes():
    before = heat_like_multipart()
    after = ud.with_cloudwatch_endpoint(before, "gw.example.com")
    old, new = _parts(before), _parts(after)
    assert list(new) == list(old)       # same parts, same order
    for name in old:
        if name != "cfn-boto-cfg":
            assert new[name] == old[name], name
    content_type, text = new["cfn-boto-cfg"]
    assert content_type == "text/x-cfninitdata"
    assert text.splitlines() == [
        *HEAT_BOTO_CFG.splitlines(),
        "cloudwatch_region_name = heat", "cloudwatch_region_endpoint = gw.example.com"]
    assert ud.part_text(after, "cfn-boto-cfg") == text
    assert json.loads(ud.part_text(after, "cfn-init-data")) == METADATA
    # boundary and headers survive: cloud-init reads the result as a multipart
    assert email.message_from_string(after).get_content_type() == "multipart/mixed"


def test_existing_cloudwatch_lines_are_replaced_not_doubled():
    once = ud.with_cloudwatch_endpoint(heat_like_multipart(), "a.example.com")
    twice = ud.with_cloudwatch_endpoint(once, "b.example.com")
    text = ud.part_text(twice, "cfn-boto-cfg")
    assert text.count("cloudwatch_region_endpoint") == 1
    assert "cloudwatch_region_endpoint = b.example.com" in text
    assert "a.example.com" not in text


def test_old_heat_boto_cfg_with_watch_server_lines():
    old_cfg = HEAT_BOTO_CFG + "\ncloudwatch_region_name = heat\n" \
        "cloudwatch_region_endpoint = 10.0.0.1\n"
    text = ud.part_text(ud.with_cloudwatch_endpoint(heat_like_multipart(old_cfg), "h"),
                        "cfn-boto-cfg")
    assert text.splitlines()[-2:] == ["cloudwatch_region_name = heat",
                                      "cloudwatch_region_endpoint = h"]
    assert "10.0.0.1" not in text


@pytest.mark.parametrize("cfg, expected", [
    ("[Boto]\ndebug = 0\n\n[Other]\nx = 1",
     ["[Boto]", "debug = 0", "cloudwatch_region_name = heat",
      "cloudwatch_region_endpoint = h", "", "[Other]", "x = 1"]),
    ("debug = 0",
     ["[Boto]", "cloudwatch_region_name = heat", "cloudwatch_region_endpoint = h",
      "debug = 0"]),
    ("[boto]\nCloudWatch_Region_Endpoint=old",
     ["[boto]", "cloudwatch_region_name = heat", "cloudwatch_region_endpoint = h"]),
])
def test_boto_cfg_sections(cfg, expected):
    assert ud.boto_cfg_with_endpoint(cfg, "h").splitlines() == expected


@pytest.mark.parametrize("host", ["", "a b", "x\ny"])
def test_bad_host_refused(host):
    with pytest.raises(ud.UserDataError):
        ud.boto_cfg_with_endpoint(HEAT_BOTO_CFG, host)


def test_non_ascii_user_data_survives():
    before = heat_like_multipart(user_data="#!/bin/sh\necho 'grüße'\n")
    after = ud.with_cloudwatch_endpoint(before, "h")
    assert ud.part_text(after, "cfn-userdata") == "#!/bin/sh\necho 'grüße'\n"


def test_not_heat_cfntools_user_data_refused():
    with pytest.raises(ud.UserDataError, match="not a MIME multipart"):
        ud.with_cloudwatch_endpoint("#!/bin/sh\n", "h")
    no_boto = MIMEMultipart(_subparts=[_part("x", "cfn-userdata", "x-cfninitdata")])
    with pytest.raises(ud.UserDataError, match="no cfn-boto-cfg part"):
        ud.with_cloudwatch_endpoint(no_boto.as_string(), "h")


def test_encode_is_base64_of_the_text():
    text = ud.with_cloudwatch_endpoint(heat_like_multipart(), "h")
    encoded = ud.encode(text)
    assert base64.b64decode(encoded).decode("utf-8") == text


def test_size_limit_is_auto_scalings():
    shape = client.service_model("autoscaling").shape_for("XmlStringUserData")
    assert shape.metadata["max"] == ud.MAX_USER_DATA
    # 3 bytes -> 4 characters: 16383 bytes give 21844 characters, 16386 give 21848
    assert len(ud.encode("x" * 16383)) == 21844
    with pytest.raises(ud.UserDataError, match=r"21848 characters.*limit of 21847"):
        ud.encode("x" * 16386)


def test_classic_template_user_data_fits():
    # the multi-AZ sample's metadata and user data are far below the limit
    metadata = {"AWS::CloudFormation::Init": {"config": {"files": {
        f"/tmp/f{i}": {"content": "x" * 200} for i in range(10)}}}}
    assert len(ud.encode(heat_like_multipart(metadata=metadata))) < ud.MAX_USER_DATA
