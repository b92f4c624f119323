"""``InstanceDriver`` on Heat: one stack per Auto Scaling group, one resource per instance.

The stack is named ``cfngw-asg-<group_id>`` and tagged ``cfn-gateway`` and
``cfngw-group-id=<group_id>`` (operators find the gateway's stacks with ``openstack stack
list --tags cfn-gateway``); its template is what ``heat_template`` makes of the members.
Calls are made with the gateway's service user scoped to the group's project
(``project_session``), so Heat itself confines them to that project.

Heat does not keep stack names unique under concurrent creates (it checks, then inserts),
so the group's stack is found by listing the stacks of its name (``GET /stacks?name=``) and
taking ``heat_template.group_stack`` of them, the same one in every process; ``apply``
deletes the duplicates it finds.  Never by Heat's name lookup, which picks any of them.

- ``apply`` creates the stack, or reads its template and updates it (PUT: the whole
  template, tags and ``disable_rollback``; a member no longer listed is deleted by the
  update, the others are left as they are; a member whose launch configuration was
  deleted keeps the definition it has in the stack). Heat's convergence engine (the
  default since Newton) takes an update while another is in progress, of a stack in any
  ``*_FAILED`` state and of one still being created: the new traversal supersedes the old
  one, so the latest apply wins. Two applies that overlap in time are ordered by Heat (it
  stores a stack's traversal with a compare-and-set and drops, silently, the update that
  lost: that apply is then as if it came first). A create that finds the name taken
  meanwhile (409) updates the stack instead. A stack being deleted (``forget``) takes no
  update: apply waits for it to be gone (at most ``stack_delete_wait`` seconds, deleting
  again one whose deletion failed) and creates the stack anew. Rollback is disabled: one
  member failing to launch must not delete the others.
- ``observe`` lists the stack's resources (``heat_template.member_states``): two GETs.
- ``kept``: once the stack's update is complete, the members its template marks
  ``Retain`` (``heat_template.retained``), with their servers' ids: five GETs, asked
  only while the group has instances detaching.
- ``forget`` deletes the stack; Heat deletes it in the background, ``observe`` answers
  ``{}`` once it is gone.  A stack already gone or being deleted is left alone.
- Adopted members (``Member.cloud_id``: ``external_id`` in the template) that ``apply`` or
  ``forget`` drop without keeping them are deleted through Nova first
  (``nova_api.ComputeAPI``), as Heat would leave them running; should that fail, the
  stack is not changed either, and the engine's next telling tries both again.

Errors: ``ServiceUnavailable`` when Heat or Keystone does not answer (or the stack stays
in deletion too long); ``MembersRefused`` when Heat refuses the template (an image, flavor,
key pair, ... the project cannot use: Heat validates the whole stack, so the scaling engine
fails the launches that brought the refused configuration in, and the group's other
members carry on); ``InternalFailure`` otherwise (``heat_api``).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from keystoneauth1 import session as ks_session

from cfn_gateway import errors
from cfn_gateway.backends.instances import Member, MembersRefused
from cfn_gateway.backends.openstack import heat_template
from cfn_gateway.backends.openstack.heat_api import (
    HeatAPI,
    HeatConflict,
    HeatNotFound,
    HeatRefused,
)
from cfn_gateway.backends.openstack.heat_template import MemberState, StackState
from cfn_gateway.backends.openstack.nova_api import ComputeAPI

LOG = logging.getLogger(__name__)

STACKS = "stacks"
#: Seconds between two looks at a stack being deleted, while ``apply`` waits for it.
POLL_INTERVAL = 0.5
_GONE = ("DELETE_IN_PROGRESS", "DELETE_COMPLETE")
_COMPLETE = ("CREATE_COMPLETE", "UPDATE_COMPLETE")


class HeatInstances:
    def __init__(self, session_for: Callable[[str], ks_session.Session] | None = None,
                 endpoint_filter: dict[str, Any] | None = None, *,
                 resource_type: str | None = None, networks: Sequence[str] | None = None,
                 timeout: float | None = None, delete_wait: float | None = None,
                 bookends: bool = True,
                 compute_endpoint_filter: dict[str, Any] | None = None) -> None:
        """Everything left out is read from the configuration (``[heat]``, and the
        ``[service_credentials]`` sessions)."""
        from cfn_gateway.common import openstack_session as sessions
        from cfn_gateway.config import CONF

        self._session_for = session_for or sessions.project_session
        self._endpoint = endpoint_filter or sessions.endpoint_filter("orchestration")
        self._compute_endpoint = compute_endpoint_filter or sessions.endpoint_filter("compute")
        self._resource_type = resource_type or CONF.heat.member_resource_type
        self._networks = tuple(CONF.heat.member_networks if networks is None else networks)
        self._timeout = CONF.heat.request_timeout if timeout is None else timeout
        self._delete_wait = CONF.heat.stack_delete_wait if delete_wait is None else delete_wait
        self._bookends = bookends

    def _api(self, project_id: str) -> HeatAPI:
        return HeatAPI(self._session_for(project_id), self._endpoint, self._timeout)

    # --- InstanceDriver ------------------------------------------------------------------

    def _body(self, group_id: str, members: Sequence[Member],
              previous: dict[str, Any] | None) -> dict[str, Any]:
        """The stack's create or update: template (``previous``: the stack's template, for
        members whose launch configuration is gone), tags, rollback disabled."""
        body_template = heat_template.template(
            members, group_id, resource_type=self._resource_type, networks=self._networks,
            bookends=self._bookends, previous=previous)
        left_out = {m.instance_id for m in members} - set(body_template["resources"])
        if left_out:
            LOG.warning("group %s: instance(s) %s have no launch configuration left nor a "
                        "definition in the stack; they are left out (Heat deletes them)",
                        group_id, sorted(left_out))
        return {"template": body_template,
                "tags": ",".join(heat_template.stack_tags(group_id)),
                "disable_rollback": True}

    def apply(self, project_id: str, group_id: str, members: Sequence[Member]) -> None:
        name = heat_template.stack_name(group_id)
        api = self._api(project_id)
        deadline = time.monotonic() + self._delete_wait
        while True:
            stacks = self._stacks(api, name)
            current = heat_template.group_stack(stacks)
            if current is not None:
                self._delete_duplicates(api, name, stacks, current)
                previous = self._template(api, name, current) or {}
                self._delete_adopted(project_id, name, previous, members)
                body = self._body(group_id, members, previous)
                if self._update(api, name, current, body, deadline):
                    LOG.debug("group %s: stack %s updated to %d instance(s)", group_id,
                              name, len(members))
                    return
            elif any(stack.status != "DELETE_COMPLETE" for stack in stacks):
                self._wait_for_deletion(api, name, stacks, deadline)
            else:
                created = self._create(api, name, self._body(group_id, members, None),
                                       deadline)
                if created is None:
                    continue  # made meanwhile: update it
                stacks = self._stacks(api, name)
                current = heat_template.group_stack(stacks)
                if current is None or current.stack_id == created:
                    self._delete_duplicates(api, name, stacks, current)
                    LOG.info("group %s: stack %s created with %d instance(s)", group_id,
                             name, len(members))
                    return
                # Another process created the group's stack at the same instant: ours
                # goes, and the next round updates that one.
                LOG.info("group %s: stack %s made twice at once; %s is the group's, %s "
                         "goes", group_id, name, current.stack_id, created)
                self._discard(api, name, created)

    def observe(self, project_id: str, group_id: str) -> dict[str, str]:
        return {instance_id: seen.state for instance_id, seen
                in self.observe_members(project_id, group_id).items()}

    def kept(self, project_id: str, group_id: str) -> dict[str, str]:
        name = heat_template.stack_name(group_id)
        api = self._api(project_id)
        stack = heat_template.group_stack(self._stacks(api, name))
        if stack is None:
            return {}
        # The template first, then the stack's status: an update that began in between
        # shows as in progress, so a template read is never taken for one that landed.
        retained = heat_template.retained(self._template(api, name, stack) or {})
        if not retained:
            return {}
        latest = heat_template.group_stack(self._stacks(api, name))
        if latest is None or latest.stack_id != stack.stack_id or \
                latest.status not in _COMPLETE:
            return {}  # the update that marks them may not have reached them yet
        seen = self.observe_members(project_id, group_id)
        return {instance_id: seen[instance_id].physical_id for instance_id in retained
                if instance_id in seen and seen[instance_id].physical_id}

    def forget(self, project_id: str, group_id: str) -> None:
        name = heat_template.stack_name(group_id)
        api = self._api(project_id)
        for stack in self._stacks(api, name):
            if stack.status not in _GONE:
                self._delete_adopted(project_id, name, self._template(api, name, stack) or {},
                                     ())
                self._delete(api, name, stack.stack_id)
                LOG.info("group %s: stack %s (%s) being deleted", group_id, name,
                         stack.stack_id)

    # --- more of what Heat knows -----------------------------------------------------------

    def observe_members(self, project_id: str, group_id: str) -> dict[str, MemberState]:
        """``observe`` with each member's server id and Heat's reason for its status
        (why it failed, for instance)."""
        name = heat_template.stack_name(group_id)
        api = self._api(project_id)
        stack = self._observed(self._stacks(api, name))
        if stack is None:
            return {}
        try:
            body = api.call("GET", f"{STACKS}/{name}/{stack.stack_id}/resources",
                            handled=(HeatNotFound,))
        except HeatNotFound:
            return {}
        return heat_template.member_states((body or {}).get("resources", []))

    def stack(self, project_id: str, group_id: str) -> StackState | None:
        """The group's stack (the one ``observe`` reads), None when there is none."""
        name = heat_template.stack_name(group_id)
        return self._observed(self._stacks(self._api(project_id), name))

    # --- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _template(api: HeatAPI, name: str, stack: StackState) -> dict[str, Any] | None:
        """The stack's template (the one its latest update asked for); None once gone."""
        try:
            return api.call("GET", f"{STACKS}/{name}/{stack.stack_id}/template",
                            handled=(HeatNotFound,))
        except HeatNotFound:
            return None

    def _delete_adopted(self, project_id: str, name: str, previous: dict[str, Any],
                        members: Sequence[Member]) -> None:
        """Delete, through Nova, the servers of the adopted members of the stack's
        template ``previous`` that ``members`` drop without keeping (Heat never deletes
        an external resource)."""
        doomed = heat_template.adopted_to_delete(previous, members)
        if not doomed:
            return
        compute = ComputeAPI(self._session_for(project_id), self._compute_endpoint,
                             self._timeout)
        if not compute.has_compute():
            LOG.info("stack %s: no compute service in the catalog, so no server behind "
                     "the adopted member(s) %s to delete", name, sorted(doomed))
            return
        for instance_id, server_id in sorted(doomed.items()):
            compute.delete_server(server_id)
            LOG.info("stack %s: adopted member %s leaves the group: server %s deleted",
                     name, instance_id, server_id)

    @staticmethod
    def _stacks(api: HeatAPI, name: str) -> list[StackState]:
        body = api.call("GET", STACKS, params={"name": name})
        return [heat_template.stack_state(stack) for stack in (body or {}).get("stacks", [])
                if stack.get("stack_name") == name and stack.get("id")]

    @staticmethod
    def _observed(stacks: list[StackState]) -> StackState | None:
        """The group's stack, or while there is none, the one being deleted."""
        current = heat_template.group_stack(stacks)
        if current is not None:
            return current
        deleting = [stack for stack in stacks if stack.status != "DELETE_COMPLETE"]
        return min(deleting, key=lambda stack: (stack.created, stack.stack_id), default=None)

    @staticmethod
    def _create(api: HeatAPI, name: str, body: dict[str, Any], deadline: float) -> str | None:
        """The new stack's id; None when the name was taken meanwhile."""
        try:
            answer = api.call("POST", STACKS, json={"stack_name": name, **body},
                              handled=(HeatConflict, HeatRefused))
        except HeatConflict:
            _give_up_after(deadline, name, "taken")
            return None
        except HeatRefused as exc:
            LOG.warning("Heat refused the creation of stack %s: %s", name, exc)
            raise MembersRefused(exc.message) from None
        stack_id = ((answer or {}).get("stack") or {}).get("id")
        if not stack_id:
            LOG.error("Heat's answer to the creation of %s has no stack id: %r", name, answer)
            raise errors.InternalFailure(
                "The orchestration service failed to process the request.")
        return str(stack_id)

    @staticmethod
    def _update(api: HeatAPI, name: str, stack: StackState, body: dict[str, Any],
                deadline: float) -> bool:
        """Whether Heat took the update; False when the stack went meanwhile."""
        try:
            api.call("PUT", f"{STACKS}/{name}/{stack.stack_id}", json=body,
                     handled=(HeatNotFound, HeatRefused))
            return True
        except HeatNotFound:
            _give_up_after(deadline, name, "going")
            return False
        except HeatRefused as exc:
            latest = {s.stack_id: s for s in HeatInstances._stacks(api, name)}
            if stack.stack_id not in latest or latest[stack.stack_id].deleting:
                _give_up_after(deadline, name, "going")
                return False  # its deletion began meanwhile
            LOG.warning("Heat refused the update of stack %s: %s", name, exc)
            raise MembersRefused(exc.message) from None

    @staticmethod
    def _delete(api: HeatAPI, name: str, stack_id: str) -> None:
        with contextlib.suppress(HeatNotFound):
            api.call("DELETE", f"{STACKS}/{name}/{stack_id}", handled=(HeatNotFound,))

    @staticmethod
    def _discard(api: HeatAPI, name: str, stack_id: str) -> None:
        """Delete a stack that is not the group's (a duplicate, or one whose deletion
        failed).  Heat may refuse while another caller deletes it at the same instant
        (seen: a 400 ``AttributeError`` from heat-engine): the stack is left to the next
        round or apply, which deletes whatever is still there, and the caller's request
        does not fail for it."""
        try:
            api.call("DELETE", f"{STACKS}/{name}/{stack_id}",
                     handled=(HeatNotFound, HeatRefused))
        except HeatNotFound:
            pass
        except HeatRefused as exc:
            LOG.warning("stack %s: Heat refused to delete %s (%s); it is deleted later",
                        name, stack_id, exc)

    def _delete_duplicates(self, api: HeatAPI, name: str, stacks: list[StackState],
                           current: StackState | None) -> None:
        """Delete the stacks of the group's name other than ``current`` (made by callers
        that created it at the same instant) and those whose deletion failed."""
        for stack in stacks:
            if current is not None and stack.stack_id == current.stack_id:
                continue
            if stack.status not in _GONE:
                LOG.warning("stack %s: deleting %s (%s), not the group's stack %s", name,
                            stack.stack_id, stack.status,
                            None if current is None else current.stack_id)
                self._discard(api, name, stack.stack_id)

    def _wait_for_deletion(self, api: HeatAPI, name: str, stacks: list[StackState],
                           deadline: float) -> None:
        """One wait while the group's stack is being deleted; a failed deletion is tried
        again."""
        for stack in stacks:
            if stack.status == "DELETE_FAILED":
                LOG.info("stack %s (%s): its deletion failed (%s); deleting it again before "
                         "the stack is created anew", name, stack.stack_id, stack.reason)
                self._discard(api, name, stack.stack_id)
        _give_up_after(deadline, name, "being deleted")
        time.sleep(POLL_INTERVAL)


def _give_up_after(deadline: float, name: str, what: str) -> None:
    if time.monotonic() >= deadline:
        LOG.warning("stack %s still %s when the wait ended: apply gives up", name, what)
        raise errors.ServiceUnavailable(
            "The group's previous instances are still being deleted. Please try again "
            "later.")
