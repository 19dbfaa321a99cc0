"""The resources the twin serves, and the discovery documents kubectl reads them from.

Discovery is the legacy kind (``/api``, ``/apis`` and one ``APIResourceList`` per group
version), which every kubectl speaks: a newer kubectl asking for aggregated discovery gets
plain JSON and falls back to it. Only what is served is advertised, with the verbs it answers.
"""

from __future__ import annotations

from dataclasses import dataclass

SERVER_VERSION = {
    "major": "1", "minor": "29", "gitVersion": "v1.29.6+tabletop", "gitCommit": "0" * 40, "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.21.11", "compiler": "gc", "platform": "linux/amd64",
}
"""What ``/version`` says: a recent Kubernetes, so that kubectl 1.20 to 1.32 are within reach."""

READ = ("get", "list", "watch")


@dataclass(frozen=True)
class Resource:
    name: str
    """The plural used in paths: ``pods``."""
    singular: str
    kind: str
    group: str
    version: str
    namespaced: bool
    verbs: tuple[str, ...] = READ
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def discovery(self) -> dict[str, object]:
        entry: dict[str, object] = {
            "name": self.name, "singularName": self.singular, "namespaced": self.namespaced, "kind": self.kind,
            "verbs": list(self.verbs),
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        if self.categories:
            entry["categories"] = list(self.categories)
        return entry


@dataclass(frozen=True)
class Subresource:
    parent: str
    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str = ""
    version: str = ""
    """Group and version of the subresource's kind when it differs from the parent's."""

    def discovery(self, namespaced: bool) -> dict[str, object]:
        entry: dict[str, object] = {"name": f"{self.parent}/{self.name}", "singularName": "", "namespaced": namespaced,
                                    "kind": self.kind, "verbs": list(self.verbs)}
        if self.group:
            entry["group"], entry["version"] = self.group, self.version
        return entry


RESOURCES: tuple[Resource, ...] = (
    Resource("namespaces", "namespace", "Namespace", "", "v1", False, short_names=("ns",)),
    Resource("nodes", "node", "Node", "", "v1", False, ("get", "list", "patch", "update", "watch"), ("no",)),
    Resource("pods", "pod", "Pod", "", "v1", True, ("delete", "get", "list", "watch"), ("po",), ("all",)),
    Resource("events", "event", "Event", "", "v1", True, short_names=("ev",)),
    Resource("deployments", "deployment", "Deployment", "apps", "v1", True, ("get", "list", "patch", "update", "watch"),
             ("deploy",), ("all",)),
    Resource("replicasets", "replicaset", "ReplicaSet", "apps", "v1", True, short_names=("rs",), categories=("all",)),
    Resource("daemonsets", "daemonset", "DaemonSet", "apps", "v1", True, short_names=("ds",), categories=("all",)),
    Resource("jobs", "job", "Job", "batch", "v1", True, categories=("all",)),
    Resource("poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", "policy", "v1", True, short_names=("pdb",)),
)
BY_PATH: dict[tuple[str, str, str], Resource] = {(r.group, r.version, r.name): r for r in RESOURCES}

SUBRESOURCES: tuple[Subresource, ...] = (
    Subresource("pods", "eviction", "Eviction", ("create",), "policy", "v1"),
    Subresource("pods", "log", "Pod", ("get",)),
    Subresource("pods", "status", "Pod", ("get",)),
    Subresource("nodes", "status", "Node", ("get",)),
    Subresource("deployments", "scale", "Scale", ("get", "patch", "update"), "autoscaling", "v1"),
    Subresource("deployments", "status", "Deployment", ("get",)),
)

GROUPS: dict[str, tuple[str, ...]] = {"apps": ("v1",), "batch": ("v1",), "policy": ("v1",)}
"""API groups and their versions (preferred first). ``policy`` serves pods' eviction and the
PodDisruptionBudgets of deployments that have a ``disruption_budget``."""


def resource(group: str, version: str, name: str) -> Resource | None:
    return BY_PATH.get((group, version, name))


def subresource(parent: str, name: str) -> Subresource | None:
    return next((s for s in SUBRESOURCES if s.parent == parent and s.name == name), None)


def version_document() -> dict[str, str]:
    return dict(SERVER_VERSION)


def api_versions(address: str) -> dict[str, object]:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}]}


def api_group(name: str) -> dict[str, object]:
    versions = [{"groupVersion": f"{name}/{v}", "version": v} for v in GROUPS[name]]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": name, "versions": versions, "preferredVersion": versions[0]}


def api_group_list() -> dict[str, object]:
    groups = [api_group(name) for name in GROUPS]
    for group in groups:
        del group["kind"], group["apiVersion"]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def resource_list(group: str, version: str) -> dict[str, object] | None:
    if group and version not in GROUPS.get(group, ()):
        return None
    if not group and version != "v1":
        return None
    entries: list[dict[str, object]] = []
    for r in RESOURCES:
        if r.group == group and r.version == version:
            entries.append(r.discovery())
            entries += [s.discovery(r.namespaced) for s in SUBRESOURCES if s.parent == r.name]
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{group}/{version}" if group else version,
            "resources": entries}
