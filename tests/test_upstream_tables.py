"""Upstream kube-scheduler plugin unit-test tables, transcribed as data (tests/upstream_tables/*.yaml),
run through schedkit's plugins. Each case names its upstream file and Go test; see FORMAT.md."""

from __future__ import annotations

import glob
import os

import pytest
import yaml

from schedkit.framework.registry import default_registry
from schedkit.testing import make_cluster, make_pod, run_plugin

TABLES = os.path.join(os.path.dirname(__file__), "upstream_tables")


def _cases():
    for path in sorted(glob.glob(os.path.join(TABLES, "*.yaml"))):
        with open(path) as handle:
            table = yaml.safe_load(handle)
        for index, case in enumerate(table.get("cases") or []):
            case_id = f"{os.path.basename(path)}::{index}::{case['name'].strip()}"
            yield pytest.param(table["plugin"], case, id=case_id)


@pytest.mark.parametrize("plugin_name, case", list(_cases()))
def test_upstream_case(plugin_name, case):
    if plugin_name not in default_registry():
        pytest.skip(f"{plugin_name} is not implemented yet")
    cls = default_registry().get(plugin_name)
    expect = dict(case.get("expect") or {})
    # Upstream's plugin sees a pod whose selector does not parse only when API validation was bypassed,
    # and fails it at PreFilter/PreScore; schedkit rejects such a pod as input instead, with the same
    # "Invalid value" text.
    for stage in ("preFilter", "preScore"):
        texts = [expect.get(stage, {}).get("message", "")] + list(expect.get(stage, {}).get("reasons", []))
        invalid = next((t for t in texts if 'Invalid value: "' in t), None)
        if invalid:
            start = invalid.index('Invalid value: "')
            expect = {"error": invalid[start:invalid.index('"', start + len('Invalid value: "')) + 1]}
    if "error" in expect and "pod" not in case:
        with pytest.raises((ValueError, Exception)) as info:
            cls(case.get("args") or {})
        assert expect["error"] in str(info.value)
        return
    try:
        plugin = cls(case.get("args") or {})
        cluster = make_cluster(case.get("nodes") or [], case.get("existingPods") or [], case.get("namespaces"),
                               case.get("objects"))
        pod = make_pod(case["pod"])
        run = run_plugin(plugin, cluster, pod, score_nodes=case.get("scoreNodes"),
                         pre_score=case.get("runPreScore", True))
    except Exception as exc:  # an expected configuration or API validation error
        if "error" in expect:
            assert expect["error"] in str(exc)
            return
        raise
    if "error" in expect:
        pytest.fail(f"expected an error containing {expect['error']!r}, got none")
    if "preFilter" in expect:
        want = expect["preFilter"]
        assert run.pre_filter is not None
        assert run.pre_filter[0] == want["code"]
        if "reasons" in want:
            assert run.pre_filter[1] == want["reasons"]
        if want.get("code") == "Success":
            # The framework keeps only PreFilterResult names that exist in the snapshot; the mask a
            # kernel writes can only name those.
            existing = {node["metadata"]["name"] for node in case.get("nodes") or []}
            expected = sorted(set(want["nodeNames"]) & existing) if "nodeNames" in want else None
            assert run.pre_filter_nodes == expected
    for node, want in (expect.get("filter") or {}).items():
        status, reasons = run.filter[node]
        assert status == want["code"], f"node {node}: {reasons}"
        if want["code"] != "Success":
            assert reasons == want.get("reasons", reasons)
    if "preScore" in expect:
        assert run.pre_score == expect["preScore"]["code"]
    if "scores" in expect and expect.get("preScore", {}).get("code") != "Skip":
        assert run.scores == {node: int(v) for node, v in expect["scores"].items()}
    if "rawScores" in expect:
        assert {n: run.raw_scores[n] for n in expect["rawScores"]} == expect["rawScores"]
