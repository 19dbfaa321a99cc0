"""Patches, selectors and printing, on their own."""

from __future__ import annotations

import pytest

from tabletop.twin.patch import PatchError, apply_patch, differences, json_patch, merge_patch, strategic_merge_patch
from tabletop.twin.selectors import SelectorError, field_selector, label_selector
from tabletop.twin.tables import Age, encode_cells, human_duration, row_cells

POD = {"metadata": {"name": "p", "labels": {"app": "a"}},
       "spec": {"containers": [{"name": "vllm", "image": "x:1", "ports": [{"containerPort": 8000, "name": "http"}]},
                               {"name": "sidecar", "image": "s:1"}],
                "finalizers": ["a"]}}


def test_merge_patch_replaces_lists_and_deletes_nulls() -> None:
    patched = merge_patch(POD, {"metadata": {"labels": {"app": None, "b": "c"}}, "spec": {"containers": [{"name": "only"}]}})
    assert patched["metadata"]["labels"] == {"b": "c"} and patched["spec"]["containers"] == [{"name": "only"}]
    assert POD["metadata"]["labels"] == {"app": "a"}  # the original is untouched


def test_strategic_merge_patch_merges_lists_by_key() -> None:
    patched = strategic_merge_patch(POD, {
        "$setElementOrder/containers": [{"name": "vllm"}, {"name": "sidecar"}],
        "spec": {"containers": [{"name": "vllm", "image": "x:2"}, {"name": "sidecar", "$patch": "delete"}, {"name": "new", "image": "n"}],
                 "finalizers": ["b"]},
    })
    containers = patched["spec"]["containers"]
    assert [c["name"] for c in containers] == ["vllm", "new"]
    assert containers[0] == {"name": "vllm", "image": "x:2", "ports": [{"containerPort": 8000, "name": "http"}]}
    assert patched["spec"]["finalizers"] == ["a", "b"]
    assert strategic_merge_patch(POD, {"metadata": {"$patch": "replace", "name": "q"}})["metadata"] == {"name": "q"}
    assert strategic_merge_patch({"spec": {"unschedulable": True}}, {"spec": {"unschedulable": None}}) == {"spec": {}}
    with pytest.raises(PatchError, match="merge key"):
        strategic_merge_patch(POD, {"spec": {"containers": [{"image": "no-name"}]}})


def test_json_patch() -> None:
    patched = json_patch(POD, [
        {"op": "replace", "path": "/spec/containers/0/image", "value": "x:3"},
        {"op": "add", "path": "/metadata/labels/tier", "value": "web"},
        {"op": "add", "path": "/spec/finalizers/-", "value": "z"},
        {"op": "remove", "path": "/spec/containers/1"},
        {"op": "copy", "from": "/metadata/name", "path": "/metadata/generateName"},
        {"op": "move", "from": "/metadata/generateName", "path": "/metadata/alias"},
        {"op": "test", "path": "/metadata/alias", "value": "p"},
        {"op": "add", "path": "/metadata/annotations", "value": {"a~b/c": "1"}},
        {"op": "replace", "path": "/metadata/annotations/a~0b~1c", "value": "2"},
    ])
    assert patched["spec"]["containers"][0]["image"] == "x:3" and len(patched["spec"]["containers"]) == 1
    assert patched["metadata"]["labels"]["tier"] == "web" and patched["spec"]["finalizers"] == ["a", "z"]
    assert patched["metadata"]["alias"] == "p" and "generateName" not in patched["metadata"]
    assert patched["metadata"]["annotations"] == {"a~b/c": "2"}
    for bad in ([{"op": "replace", "path": "/nope", "value": 1}], [{"op": "test", "path": "/metadata/name", "value": "q"}],
                [{"op": "jump", "path": "/"}], {"op": "add"}, [{"op": "add", "path": "no-slash", "value": 1}]):
        with pytest.raises(PatchError):
            json_patch(POD, bad)
    with pytest.raises(PatchError):
        apply_patch("application/merge-patch+json", POD, [1])


def test_differences_ignore_what_typed_clients_add() -> None:
    sent = {"metadata": {"name": "p", "creationTimestamp": None, "labels": {"app": "a"}}, "spec": {"containers": [
        {"name": "vllm", "image": "x:1", "resources": {}, "ports": [{"containerPort": 8000, "name": "http", "hostPort": 0}]},
        {"name": "sidecar", "image": "s:1"}], "finalizers": ["a"], "hostNetwork": False}}
    assert differences(POD, sent) == []
    assert differences(POD, merge_patch(POD, {"spec": {"containers": [{"name": "vllm", "image": "x:9"}]}})) == ["spec.containers"]
    assert differences(POD, json_patch(POD, [{"op": "replace", "path": "/spec/containers/1/image", "value": "s:2"}])) == [
        "spec.containers[1].image"]


def test_label_selectors() -> None:
    labels = {"app": "ranker", "tier": "web", "shard": "3"}
    matches = {
        "app=ranker": True, "app==ranker": True, "app!=ranker": False, "app in (ranker, chat)": True, "app notin (ranker)": False,
        "tier": True, "!tier": False, "!canary": True, "app=ranker,tier=web": True, "app=ranker,tier=db": False,
        "shard>2": True, "shard<3": False, "app in (a,b),tier": False, " app = ranker ": True, "": True,
    }
    for text, expected in matches.items():
        selector = label_selector(text)
        assert (selector is None or selector.matches(labels)) is expected, text
    for bad in ("app in (a", "=x", "app in ()", "shard>x", "a b", "app=a b"):
        with pytest.raises(SelectorError):
            label_selector(bad)


def test_field_selectors() -> None:
    allowed = frozenset({"metadata.name", "spec.nodeName", "status.phase"})
    fields = {"metadata.name": "p", "spec.nodeName": "n1", "status.phase": "Running"}
    assert field_selector("spec.nodeName=n1,status.phase!=Failed", allowed, "pods").matches(fields)  # type: ignore[union-attr]
    assert not field_selector("spec.nodeName==n2", allowed, "pods").matches(fields)  # type: ignore[union-attr]
    assert field_selector("metadata.name=", allowed, "pods").matches({"metadata.name": ""})  # type: ignore[union-attr]
    with pytest.raises(SelectorError, match="field label not supported: spec.containers"):
        field_selector("spec.containers=x", allowed, "pods")
    with pytest.raises(SelectorError):
        field_selector("spec.nodeName", allowed, "pods")


def test_ages_print_like_the_api_server() -> None:
    assert [human_duration(s) for s in (-5, -1, 0, 59, 119, 120, 125, 600, 3 * 3600 - 1, 3 * 3600, 7 * 3600 + 60, 30 * 3600,
                                        3 * 86400 + 3600, 20 * 86400, 800 * 86400, 3000 * 86400)] == [
        "<invalid>", "0s", "0s", "59s", "119s", "2m", "2m5s", "10m", "179m", "3h", "7h1m", "30h", "3d1h", "20d", "2y70d", "8y"]
    parts = encode_cells(["a", 1, Age(0.0), None, Age(30.0)])
    assert row_cells(parts, 90.0) == b'["a", 1,"90s",null,"60s"]'
