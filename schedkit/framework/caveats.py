"""What an input leaves out that can change a decision, said to the user instead of silently deciding.

- PodTopologySpread's default constraints spread a pod that has none of its own by a selector built
  from the Services selecting it and its controlling ReplicationController, ReplicaSet or StatefulSet
  (pkg/scheduler/framework/plugins/helper/spread.go, DefaultSelector). A dump without that owner
  object gives a different selector, so a different node than the real scheduler picks. A missing
  Service cannot be detected (Services select pods by labels; nothing in the pod names them), a
  missing owner can: the pod's ownerReferences name it.
- The volume plugins are not modelled, so a pod using PersistentVolumeClaims is placed without its
  volumes' node constraints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..objects import Pod
from .profile import Profile

# helper/spread.go: the owner kinds DefaultSelector reads, by (apiVersion, kind); the resource name a
# user adds to `kubectl get` for each.
SPREAD_OWNER_KINDS = {
    ("v1", "ReplicationController"): "replicationcontrollers",
    ("apps/v1", "ReplicaSet"): "replicasets",
    ("apps/v1", "StatefulSet"): "statefulsets",
}
# plugin.go systemDefaultConstraints: both ScheduleAnyway, so they only score.
SYSTEM_DEFAULT_WHEN = ("ScheduleAnyway",)
VOLUME_PLUGINS = ("VolumeRestrictions", "NodeVolumeLimits", "VolumeBinding", "VolumeZone")
MAX_OWNER_LINES = 5


@dataclass(frozen=True)
class OwnerRef:
    api_version: str
    kind: str
    namespace: str
    name: str

    @property
    def resource(self) -> str:
        return SPREAD_OWNER_KINDS[(self.api_version, self.kind)]


@dataclass
class MissingOwner:
    owner: OwnerRef
    pods: list[str] = field(default_factory=list)  # keys of the pods it controls, in input order


def spread_owner(pod: Pod) -> OwnerRef | None:
    """The pod's controller (metav1.GetControllerOf: the first ownerReference with controller true) when it
    is of a kind DefaultSelector reads; None otherwise."""
    for ref in (pod.raw.get("metadata") or {}).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller") is True:
            key = (ref.get("apiVersion"), ref.get("kind"))
            if key in SPREAD_OWNER_KINDS and isinstance(ref.get("name"), str):
                return OwnerRef(key[0], key[1], pod.namespace, ref["name"])
            return None
    return None


def uses_default_spreading(profile: Profile) -> bool:
    """Whether the profile's PodTopologySpread applies default constraints where they decide: a
    DoNotSchedule default needs the plugin at Filter, a ScheduleAnyway one at Score."""
    try:
        index = profile.plugin_index("PodTopologySpread")
    except KeyError:
        return False
    plugin = profile.plugins[index]
    defaulting = getattr(plugin, "defaulting_type", "System")
    if defaulting == "System":
        whens = set(SYSTEM_DEFAULT_WHEN)
    else:
        whens = {when for _key, _skew, when in getattr(plugin, "default_constraints", [])}
    return (("DoNotSchedule" in whens and index in profile.points["filter"])
            or ("ScheduleAnyway" in whens and index in profile.points["score"]))


def _present_owners(others) -> set[tuple[str, str, str]]:
    """(kind, namespace, name) of the owner objects in the input, found by kind as PodTopologySpread's
    prepare finds them."""
    kinds = {kind for _, kind in SPREAD_OWNER_KINDS}
    present = set()
    for item in others:
        obj = item.obj
        if obj.get("kind") in kinds:
            meta = obj.get("metadata") or {}
            present.add((obj.get("kind"), meta.get("namespace") or "default", meta.get("name")))
    return present


def missing_spread_owners(profiles: dict[str, Profile], others, pods: list[Pod]) -> list[MissingOwner]:
    """Owners that default spreading of ``pods`` would read and that are not among ``others`` (the
    input's Services, ReplicaSets, ...). Only pods without their own topologySpreadConstraints, under a
    profile that uses default spreading, count."""
    present = _present_owners(others)
    spreading = {name for name, profile in profiles.items() if uses_default_spreading(profile)}
    missing: dict[OwnerRef, MissingOwner] = {}
    for pod in pods:
        if pod.scheduler_name not in spreading or (pod.raw.get("spec") or {}).get("topologySpreadConstraints"):
            continue
        owner = spread_owner(pod)
        if owner is None or (owner.kind, owner.namespace, owner.name) in present:
            continue
        missing.setdefault(owner, MissingOwner(owner)).pods.append(pod.key)
    return list(missing.values())


def owner_warning_lines(missing: list[MissingOwner]) -> list[str]:
    """One line per missing owner, at most MAX_OWNER_LINES, then one line counting the rest."""
    lines = []
    for entry in missing[:MAX_OWNER_LINES]:
        owner, pods = entry.owner, entry.pods
        more = f" (and {len(pods) - 1} more pod{'s' if len(pods) > 2 else ''})" if len(pods) > 1 else ""
        lines.append(f"default spreading for {pods[0]}{more} needs its {owner.kind} {owner.name}; "
                     f"add {owner.resource} to the dump")
    rest = missing[MAX_OWNER_LINES:]
    if rest:
        resources = sorted({entry.owner.resource for entry in rest})
        count = sum(len(entry.pods) for entry in rest)
        lines.append(f"default spreading: {len(rest)} more missing owner(s) of {count} pod(s); "
                     f"add {', '.join(resources)} to the dump")
    return lines


def claim_names(pod: Pod) -> list[str]:
    """The PersistentVolumeClaims a pod uses: spec.volumes[].persistentVolumeClaim.claimName, and for a
    generic ephemeral volume the claim the controller creates for it, <pod name>-<volume name>
    (component-helpers storage/ephemeral VolumeClaimName)."""
    names = []
    for volume in (pod.raw.get("spec") or {}).get("volumes") or []:
        if not isinstance(volume, dict):
            continue
        claim = volume.get("persistentVolumeClaim")
        if isinstance(claim, dict):
            names.append(str(claim.get("claimName", "")))
        elif volume.get("ephemeral") is not None:
            names.append(f"{pod.name}-{volume.get('name', '')}")
    return names


def unmodelled_volume_plugins(profile: Profile | None) -> list[str]:
    """The volume plugins the profile enables that schedkit leaves out."""
    if profile is None:
        return []
    return [name for name in profile.not_modelled if name in VOLUME_PLUGINS]


def volume_warning(profile: Profile | None, pod: Pod) -> str | None:
    """For explain: what is not checked for this pod's claims, or None when nothing is missed."""
    claims = claim_names(pod)
    plugins = unmodelled_volume_plugins(profile)
    if not claims or not plugins:
        return None
    return (f"uses PersistentVolumeClaim(s) {', '.join(claims)}: volume plugins are not modelled "
            f"({', '.join(plugins)}), so binding, zone and attach-limit checks for them are skipped")


def volume_summary(profiles: dict[str, Profile], pods: list[Pod]) -> str | None:
    """For schedule: one line counting the pods whose claims are not checked."""
    using = [pod for pod in pods if claim_names(pod) and unmodelled_volume_plugins(profiles.get(pod.scheduler_name))]
    if not using:
        return None
    others = f" and {len(using) - 1} more" if len(using) > 1 else ""
    return (f"{len(using)} pod(s) use PersistentVolumeClaims ({using[0].key}{others}): volume plugins are not "
            "modelled, so binding, zone and attach-limit checks for them are skipped")


__all__ = ["MissingOwner", "OwnerRef", "claim_names", "missing_spread_owners", "owner_warning_lines",
           "spread_owner", "uses_default_spreading", "volume_summary", "volume_warning"]
