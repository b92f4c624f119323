"""Auto Scaling launch configurations: the value type and its JSON codec.

A launch configuration is immutable once created (AWS has no update call); a group's
instances are launched from it.  ``to_json`` / ``from_json`` give the stored text:
snake_case keys named after the fields, every field present (None when unset), tuples as
arrays, ``created_at`` as epoch milliseconds, format version ``"v": 1``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from cfn_gateway.domain.periods import from_millis, to_millis

FORMAT_VERSION = 1


@dataclass(frozen=True)
class EbsVolume:
    snapshot_id: str | None = None
    volume_size: int | None = None
    volume_type: str | None = None
    delete_on_termination: bool | None = None
    iops: int | None = None
    encrypted: bool | None = None
    throughput: int | None = None


@dataclass(frozen=True)
class BlockDeviceMapping:
    device_name: str
    virtual_name: str | None = None
    ebs: EbsVolume | None = None
    no_device: bool | None = None


@dataclass(frozen=True)
class MetadataOptions:
    http_tokens: str | None = None
    http_put_response_hop_limit: int | None = None
    http_endpoint: str | None = None


@dataclass(frozen=True)
class LaunchConfiguration:
    name: str
    arn: str
    created_at: datetime
    image_id: str
    instance_type: str
    key_name: str | None = None
    security_groups: tuple[str, ...] = ()
    user_data: str | None = None
    kernel_id: str | None = None
    ramdisk_id: str | None = None
    block_device_mappings: tuple[BlockDeviceMapping, ...] = ()
    #: Detailed monitoring (AWS's default for launch configurations: enabled).
    instance_monitoring: bool = True
    spot_price: str | None = None
    iam_instance_profile: str | None = None
    ebs_optimized: bool = False
    associate_public_ip_address: bool | None = None
    placement_tenancy: str | None = None
    metadata_options: MetadataOptions | None = None
    classic_link_vpc_id: str | None = None
    classic_link_vpc_security_groups: tuple[str, ...] = ()


def to_json(config: LaunchConfiguration) -> str:
    data: dict[str, Any] = asdict(config)
    data["created_at"] = to_millis(config.created_at)
    data["v"] = FORMAT_VERSION
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def from_json(text: str) -> LaunchConfiguration:
    try:
        data = json.loads(text)
        if data.pop("v") != FORMAT_VERSION:
            raise ValueError("unknown launch configuration format")
        data["created_at"] = from_millis(data["created_at"])
        data["security_groups"] = tuple(data["security_groups"])
        data["classic_link_vpc_security_groups"] = tuple(
            data["classic_link_vpc_security_groups"])
        data["block_device_mappings"] = tuple(
            BlockDeviceMapping(**{**mapping, "ebs": EbsVolume(**mapping["ebs"])
                                  if mapping["ebs"] is not None else None})
            for mapping in data["block_device_mappings"])
        if data["metadata_options"] is not None:
            data["metadata_options"] = MetadataOptions(**data["metadata_options"])
        return LaunchConfiguration(**data)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed launch configuration: {exc!r}") from exc
