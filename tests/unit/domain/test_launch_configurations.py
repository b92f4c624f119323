"""The launch configuration codec: exact round trips, refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from cfn_gateway.domain.launch_configurations import (
    BlockDeviceMapping,
    EbsVolume,
    LaunchConfiguration,
    MetadataOptions,
    from_json,
    to_json,
)

FULL = LaunchConfiguration(
    name="web", arn="arn:aws:autoscaling:r:p:launchConfiguration:u:launchConfigurationName/web",
    created_at=datetime(2026, 11, 29, 12, 0, 0, 123000, tzinfo=UTC), image_id="img",
    instance_type="m1.small", key_name="ops", security_groups=("a", "b"), user_data="eA==",
    kernel_id="k", ramdisk_id="r",
    block_device_mappings=(BlockDeviceMapping("/dev/vdb", ebs=EbsVolume(volume_size=20)),
                           BlockDeviceMapping("/dev/vdc", virtual_name="ephemeral0"),
                           BlockDeviceMapping("/dev/vdd", no_device=True)),
    instance_monitoring=False, spot_price="0.1", iam_instance_profile="profile",
    ebs_optimized=True, associate_public_ip_address=False, placement_tenancy="default",
    metadata_options=MetadataOptions(http_tokens="required"), classic_link_vpc_id="vpc",
    classic_link_vpc_security_groups=("sg",))


@pytest.mark.parametrize("config", [FULL, LaunchConfiguration(
    name="bare", arn="arn", created_at=FULL.created_at, image_id="i", instance_type="t")])
def test_round_trip(config):
    assert from_json(to_json(config)) == config


def test_refusals():
    data = json.loads(to_json(FULL))
    with pytest.raises(ValueError):
        from_json(json.dumps({**data, "v": 2}))
    del data["image_id"]
    with pytest.raises(ValueError):
        from_json(json.dumps(data))
