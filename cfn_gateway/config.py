"""Every option of the gateway, oslo.config style, with defaults that work out of the box.

``CONF`` is the process-wide option registry.  ``cfn-gateway serve`` fills it from the
command line and an optional config file before the paste pipeline is built; the filters
and the app read it when the pipeline is built.  ``etc/cfn-gateway.conf.sample`` is
generated from these definitions (``oslo-config-generator --namespace cfn_gateway``).
"""

from __future__ import annotations

import os

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

DEFAULT_DATA_DIR = "./cfn-gateway-data"

server_opts = [
    cfg.StrOpt("host", default="127.0.0.1", help="Address the gateway listens on."),
    cfg.PortOpt("port", default=8080, help="Port the gateway listens on (both services)."),
    cfg.IntOpt("workers", default=2, min=1, help="Worker processes of the WSGI server."),
    cfg.IntOpt(
        "threads",
        default=0,
        min=0,
        help="Python threads per worker; 0 means 1 in standalone mode (requests run on "
        "the worker's event loop, and the PutMetricData requests that arrive together share "
        "one commit, made on a thread of its own) and 8 in openstack mode (requests mostly "
        "wait on Keystone and Gnocchi).",
    ),
    cfg.StrOpt(
        "data_dir",
        default=DEFAULT_DATA_DIR,
        help="Folder of the embedded SQLite stores: metrics and credentials in standalone "
        "mode; launch configurations, groups and dashboards in both modes; in openstack mode "
        "the values percentiles need ([gnocchi] keep_values).",
    ),
    cfg.IntOpt(
        "metric_store_cache_mb",
        default=64,
        min=1,
        help="Most MiB of the embedded metric store's file (metrics in standalone mode, the "
        "values percentiles need in openstack mode) each gateway process keeps in memory "
        "(SQLite's page cache). A PutMetricData of many metrics touches pages of three "
        "indexes per metric; with SQLite's default of 2 MiB they did not fit and were "
        "read again within the same write (1000-datum puts: 26 % more per second at 64).",
    ),
    cfg.StrOpt(
        "api_paste_config",
        default="",
        help="The paste.deploy pipeline; empty means the api-paste.ini shipped with the "
        "gateway.",
    ),
    cfg.StrOpt(
        "mode",
        default="standalone",
        choices=["standalone", "openstack"],
        help="standalone: embedded SQLite store and local credentials; openstack: Keystone, "
        "Gnocchi, Aodh and Heat.",
    ),
    cfg.IntOpt(
        "max_request_body_size",
        default=1024 * 1024,
        min=1024,
        help="Largest request body accepted, in bytes, as sent (AWS accepts 1 MB for "
        "PutMetricData).",
    ),
    cfg.StrOpt(
        "http_server",
        default="native",
        choices=["native", "granian"],
        help="What reads HTTP in serve's workers. native: HTTP/1.1 parsed on each worker's "
        "own event loop (cfn_gateway.server.http1), with head and body deadlines; measured "
        "side by side with granian: 22 % more 1-datum JSON puts per second, a third less "
        "CPU per health check. granian: the Rust server of earlier versions (also speaks "
        "HTTP/2).",
    ),
    cfg.FloatOpt(
        "request_head_timeout",
        default=30.0,
        min=0.1,
        help="native server: seconds a request's head (request line and headers) may take "
        "to arrive once its first byte has. A late head gets 408 and its connection is "
        "closed.",
    ),
    cfg.FloatOpt(
        "request_body_timeout",
        default=20.0,
        min=0.0,
        help="Seconds a request's whole body may take to arrive once its headers are in. A "
        "late body (a client that declared more bytes than it sends, or sends very slowly) "
        "is answered with RequestTimeout (400) and its connection closed; nothing of it is "
        "processed, and no Python thread waits for it meanwhile. 0: no deadline, only behind "
        "a proxy that buffers whole requests with a timeout of its own (haproxy option "
        "http-buffer-request, nginx); with http_server = granian, 0 also takes granian's "
        "WSGI interface (35-200 us less server CPU per request), where each slow or "
        "stalled body holds one of the worker's threads for as long as the client likes.",
    ),
    cfg.IntOpt(
        "max_decompressed_body_size",
        default=8 * 1024 * 1024,
        min=1024,
        help="Largest body accepted after gzip Content-Encoding is undone.",
    ),
    cfg.IntOpt(
        "signature_max_skew",
        default=900,
        min=1,
        help="Seconds a signed request's timestamp may differ from the gateway's clock.",
    ),
    cfg.FloatOpt(
        "credential_cache_ttl",
        default=5.0,
        min=0.0,
        max=3600.0,
        help="Standalone mode: seconds a worker keeps a key pair it read from the local "
        "credential store before reading it again: the longest a deleted credential keeps "
        "working. 0: read the store on every request (costs 50-80 us of CPU per request "
        "under load). A new credential works at once.",
    ),
    cfg.BoolOpt(
        "query_legacy_units",
        default=True,
        help="Accept the CloudWatch units Heat's cfn-push-stats sends in Query requests, as "
        "Heat's own CloudWatch API did: Counter is read as Count, and a standard unit name "
        "in any letter case as that unit (megabytes as Megabytes). Applies to every Unit of "
        "every CloudWatch Query action; the unit is stored and reported as the standard one. "
        "JSON and CBOR requests always get AWS's exact check. False: such units are refused "
        "with ValidationError, as AWS does.",
    ),
]

# OpenStack mode: the gateway's own service user (keystoneauth1 options: auth_type,
# auth_url, username, password, project_name, user_domain_name, project_domain_name, ...).
SERVICE_CREDENTIALS = "service_credentials"

openstack_opts = [
    cfg.StrOpt("region_name", help="Region of the OpenStack endpoints to use."),
    cfg.StrOpt(
        "interface",
        default="public",
        choices=["public", "internal", "admin"],
        help="Endpoint interface of the OpenStack services.",
    ),
]

# OpenStack mode: how request signatures are verified with Keystone (cfn_gateway.auth.keystone).
KEYSTONE_EC2 = "keystone_ec2"

keystone_ec2_opts = [
    cfg.FloatOpt(
        "timeout",
        default=5.0,
        min=0.1,
        help="Seconds to wait for Keystone (connect, then each read) on every call made to "
        "verify a signature, the verifier's own service token included, and on every "
        "validation of a caller's Keystone token ([keystone_token]). A Keystone that does "
        "not answer in time makes the request fail with ServiceUnavailable (503).",
    ),
    cfg.StrOpt(
        "endpoint_override",
        help="URL of Keystone's v3 API (e.g. http://keystone:5000/v3) for ec2tokens, the "
        "credentials API and the validation of callers' Keystone tokens; empty: the identity "
        "endpoint of the catalog ([openstack] interface and region_name).",
    ),
    cfg.StrOpt(
        "local_check",
        default="gaps",
        choices=[
            ("never", "every request goes to /v3/ec2tokens; request forms Keystone cannot "
             "verify (SigV2 HmacSHA1, presigned POST, ...) are refused"),
            ("gaps", "/v3/ec2tokens, except for request forms Keystone cannot verify: for "
             "those the EC2 secret is read through the credentials API and the signature "
             "checked by the gateway"),
            ("always", "every request is checked by the gateway with the EC2 secret read "
             "through the credentials API and cached for secret_cache_ttl (credentials "
             "bound to a trust or application credential still go to /v3/ec2tokens)"),
        ],
        help="Where signatures are checked.",
    ),
    cfg.StrOpt(
        "credentials_scope",
        default="system",
        choices=[
            ("system", "a token of the service user scoped to the system: the user needs "
             "the reader role on the system"),
            ("project", "the service user's token scoped as [service_credentials] says: it "
             "needs the admin role there (or a policy that lets it read credentials)"),
        ],
        help="Scope of the token that reads EC2 secrets, users, projects, domains and role "
        "assignments (local_check = gaps or always).",
    ),
    cfg.IntOpt(
        "secret_cache_ttl",
        default=60,
        min=1,
        max=3600,
        help="Seconds an EC2 secret and the state of its user and project read from Keystone "
        "are used before they are read again: the longest a deleted credential, a disabled "
        "user or project, or a removed role assignment keeps working on the local path.",
    ),
    cfg.IntOpt(
        "secret_cache_size",
        default=1024,
        min=1,
        help="Most EC2 secrets kept per gateway process (least recently used dropped first).",
    ),
    cfg.IntOpt(
        "keystone_auth_ttl",
        default=15,
        min=1,
        help="Keystone's [credential] auth_ttl, in minutes: Keystone refuses signed requests "
        "whose timestamp is older. Requests near that age are checked locally (or, with "
        "local_check = never, a refusal past it is reported as RequestExpired).",
    ),
]

# OpenStack mode: callers that send a Keystone token instead of an AWS signature
# (cfn_gateway.auth.keystone_tokens).
KEYSTONE_TOKEN = "keystone_token"

keystone_token_opts = [
    cfg.BoolOpt(
        "enabled",
        default=True,
        help="OpenStack mode: accept a request that carries a project-scoped Keystone token "
        "in X-Auth-Token and no AWS signature at all (Heat resource plugins calling on "
        "behalf of a stack's owner). The token is validated with Keystone (GET "
        "/v3/auth/tokens with the [service_credentials] session; Keystone's "
        "identity:validate_token lets the service role do that) and the caller acts in the "
        "token's project. A signed request is always verified by its signature, whatever "
        "X-Auth-Token it carries. Ignored in standalone mode.",
    ),
    cfg.IntOpt(
        "cache_ttl",
        default=300,
        min=1,
        max=3600,
        help="Seconds a validated token is used without asking Keystone again (never past "
        "the token's own expiry): the longest a revoked token keeps working per gateway "
        "process. Refusals are kept a few seconds only.",
    ),
    cfg.IntOpt(
        "cache_size",
        default=4096,
        min=1,
        help="Most validated tokens kept per gateway process (the oldest dropped first).",
    ),
]

CONF = cfg.CONF
CONF.register_opts(server_opts)
CONF.register_opts(openstack_opts, group="openstack")
CONF.register_opts(keystone_ec2_opts, group=KEYSTONE_EC2)
CONF.register_opts(keystone_token_opts, group=KEYSTONE_TOKEN)
ks_loading.register_session_conf_options(CONF, SERVICE_CREDENTIALS)
ks_loading.register_auth_conf_options(CONF, SERVICE_CREDENTIALS)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """Entry point for oslo-config-generator."""
    service_credentials = (
        ks_loading.get_session_conf_options()
        + ks_loading.get_auth_common_conf_options()
        + ks_loading.get_auth_plugin_conf_options("password")
    )
    return [(None, server_opts), ("openstack", openstack_opts),
            (SERVICE_CREDENTIALS, service_credentials), (KEYSTONE_EC2, keystone_ec2_opts),
            (KEYSTONE_TOKEN, keystone_token_opts),
            (GNOCCHI, gnocchi_opts), (ALARMS, alarm_opts), (AUTOSCALING, autoscaling_opts),
            (HEAT, heat_opts)]


def data_path(name: str) -> str:
    """A file inside the configured data folder."""
    return os.path.join(os.path.abspath(CONF.data_dir), name)


# OpenStack mode: the Gnocchi metric driver (cfn_gateway.backends.openstack.gnocchi_metrics).
GNOCCHI = "gnocchi"

gnocchi_opts = [
    cfg.BoolOpt(
        "auto_setup",
        default=True,
        help="Create the driver's archive policies and resource type on first use, with the "
        "[service_credentials] session (Gnocchi lets the admin or service role do that). "
        "False: only check they exist (an admin creates them with python -m "
        "cfn_gateway.backends.openstack.gnocchi_setup).",
    ),
    cfg.IntOpt(
        "parallel_requests",
        default=8,
        min=1,
        max=64,
        help="Gnocchi calls one gateway request may have in flight at once (resource "
        "creation, statistics reads).",
    ),
    cfg.FloatOpt(
        "request_timeout",
        default=30.0,
        min=0.1,
        help="Seconds to wait for Gnocchi (connect, then each read) on every call; a Gnocchi "
        "that does not answer in time makes the request fail with ServiceUnavailable (503).",
    ),
    cfg.IntOpt(
        "activity_update_interval",
        default=300,
        min=1,
        help="Seconds between updates of a metric's last publication time (what ListMetrics' "
        "two-week and RecentlyActive windows read), per metric and gateway process. Every "
        "update is a Gnocchi resource revision; ListMetrics may see a metric's activity up "
        "to this much late.",
    ),
    cfg.StrOpt(
        "list_token_secret",
        secret=True,
        default="",
        help="Key that signs ListMetrics NextTokens, the same on every gateway host; empty: "
        "derived from [service_credentials].",
    ),
    cfg.BoolOpt(
        "keep_values",
        default=True,
        help="Also keep the values of every datum (its statistic sets) in the data folder "
        "(metric_values.sqlite3), which percentiles are computed from: Gnocchi keeps "
        "per-period sums, counts, minima and maxima only. Each gateway host keeps the values "
        "it received. False: percentiles answer NotImplemented.",
    ),
    cfg.IntOpt(
        "values_retention_days",
        default=15,
        min=1,
        help="Days the kept values are kept (AWS keeps 60-second data 15 days); the engine "
        "drops older ones every hour, and percentiles of older periods have no datapoint.",
    ),
]

CONF.register_opts(gnocchi_opts, group=GNOCCHI)

# CloudWatch alarms: their quota, ARNs, history, and the evaluation engine.
ALARMS = "alarms"

alarm_opts = [
    cfg.StrOpt(
        "region",
        default="us-east-1",
        help="Region named in alarm ARNs (arn:aws:cloudwatch:REGION:PROJECT:alarm:NAME). "
        "Clients compare it with the region they sign for only when they build ARNs "
        "themselves (TagResource).",
    ),
    cfg.IntOpt(
        "max_alarms_per_project",
        default=5000,
        min=1,
        help="Alarms one project may have (AWS's default quota per account and region); "
        "PutMetricAlarm and PutCompositeAlarm beyond it answer LimitExceeded.",
    ),
    cfg.IntOpt(
        "history_retention_days",
        default=14,
        min=1,
        help="Days DescribeAlarmHistory keeps items, also of deleted alarms (AWS: two weeks).",
    ),
    cfg.BoolOpt(
        "engine_in_serve",
        default=True,
        help="cfn-gateway serve runs one engine beside its workers (alarms in standalone "
        "mode, Auto Scaling groups in both modes). False: run cfn-gateway engine separately "
        "(any number of engines share the work).",
    ),
    cfg.IntOpt(
        "webhook_attempts",
        default=4,
        min=1,
        help="Tries of one http(s) alarm action before it is recorded as failed.",
    ),
    cfg.FloatOpt(
        "webhook_first_retry_delay",
        default=1.0,
        min=0.0,
        help="Seconds before the second try of an http(s) alarm action; doubled each time.",
    ),
    cfg.FloatOpt(
        "webhook_timeout",
        default=5.0,
        min=0.1,
        help="Seconds one try of an http(s) alarm action may take to get an answer.",
    ),
    cfg.StrOpt(
        "action_url",
        default="",
        help="OpenStack mode: the URL at which Aodh's notifier reaches this gateway to run "
        "Auto Scaling policy actions (http://HOST:PORT/cfn-gateway/alarm-actions/v1; "
        "through a load balancer, its address). Empty: this server's host and port "
        "(127.0.0.1 when it listens on every address). Stored with each alarm when it is "
        "written.",
    ),
]

CONF.register_opts(alarm_opts, group=ALARMS)

AUTOSCALING = "autoscaling"
autoscaling_opts = [
    cfg.StrOpt(
        "region",
        default="us-east-1",
        help="Region named in Auto Scaling ARNs (launch configurations, groups, policies).",
    ),
    cfg.IntOpt(
        "max_launch_configurations",
        default=200,
        min=1,
        help="Launch configurations one project may have (AWS's default quota per region); "
        "CreateLaunchConfiguration beyond it answers LimitExceeded.",
    ),
    cfg.IntOpt(
        "max_groups",
        default=500,
        min=1,
        help="Auto Scaling groups one project may have (AWS's default quota per region); "
        "CreateAutoScalingGroup beyond it answers LimitExceeded.",
    ),
    cfg.StrOpt(
        "default_availability_zone",
        default="nova",
        help="The zone of groups created with subnets (VPCZoneIdentifier) and no "
        "AvailabilityZones: where their instances launch.",
    ),
    cfg.FloatOpt(
        "nocloud_boot_seconds",
        default=0.0,
        min=0.0,
        help="Standalone mode: how long a new instance of the no-cloud instance driver "
        "takes to boot (Pending before InService).",
    ),
]
CONF.register_opts(autoscaling_opts, group=AUTOSCALING)

# OpenStack mode: the Heat instance driver (cfn_gateway.backends.openstack.heat_instances).
HEAT = "heat"

heat_opts = [
    cfg.StrOpt(
        "member_resource_type",
        default="OS::Nova::Server",
        help="Heat resource type of each instance of a group, given the properties of "
        "OS::Nova::Server (name, image, flavor, key_name, security_groups, user_data, "
        "availability_zone, metadata, networks, block_device_mapping_v2). Another type "
        "that accepts them (a provider template registered in Heat's global environment) "
        "may wrap the server.",
    ),
    cfg.ListOpt(
        "member_networks",
        default=[],
        help="Networks (names or ids) every instance gets a port on, in this order. Empty: "
        "none are named and Nova chooses (the project's only network, or auto-allocation).",
    ),
    cfg.FloatOpt(
        "request_timeout",
        default=30.0,
        min=0.1,
        help="Seconds to wait for Heat (connect, then each read) on every call; a Heat "
        "that does not answer in time makes the call fail with ServiceUnavailable (503).",
    ),
    cfg.FloatOpt(
        "stack_delete_wait",
        default=30.0,
        min=0.0,
        help="Seconds a change of a group's instances waits for the group's stack to "
        "finish a deletion before it creates the stack anew (then it fails with "
        "ServiceUnavailable and is tried again later).",
    ),
    cfg.StrOpt(
        "stack_user_domain",
        default=None,
        help="OpenStack mode: Heat's stack user domain (heat.conf [DEFAULT] "
        "stack_user_domain_id or stack_user_domain_name; an id or a name). A caller whose "
        "project is in this domain is a stack's user (the EC2 keys Heat hands to servers, "
        "AWS::IAM::AccessKey, used by cfn-push-stats): it acts in the stack owner's project "
        "(the part of its project's name before the first '-', which must be an existing, "
        "enabled project), may call PutMetricData only, and its AlarmName=<logical "
        "resource name> dimensions name that stack's alarm. Unset: no caller is a stack "
        "user (its data stays in its own project).",
    ),
]
CONF.register_opts(heat_opts, group=HEAT)


def alarm_action_url() -> str:
    """``[alarms] action_url``, or this server's own address."""
    if CONF.alarms.action_url:
        return CONF.alarms.action_url
    host = CONF.host if CONF.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{CONF.port}/cfn-gateway/alarm-actions/v1"
