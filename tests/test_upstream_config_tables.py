"""Upstream's configuration fixtures (default plugins, mergePlugins, defaulting, the scheme's decoding cases and
the default profile expanded per extension point), transcribed as data in tests/upstream_tables/config/ and run
through schedkit's configuration and profile building. See tests/upstream_tables/FORMAT.md."""

from __future__ import annotations

import os

import pytest
import yaml

from schedkit.errors import InputError
from schedkit.framework.config import (API_VERSION, CONFIG_POINTS, DEFAULT_MULTI_POINT, KIND, PLUGINS_FIELDS,
                                       PluginRef, PluginSet, merge_plugin_set, parse_config)
from schedkit.framework.registry import NOT_YET_IMPLEMENTED
from schedkit.framework.scheduler import Scheduler

TABLES = os.path.join(os.path.dirname(__file__), "upstream_tables", "config")
BASE = {"apiVersion": API_VERSION, "kind": KIND}


def _table(name: str) -> dict:
    with open(os.path.join(TABLES, name)) as handle:
        return yaml.safe_load(handle)


def _cases(name: str, key: str = "cases"):
    table = _table(name)
    cases = table[key]["cases"] if key != "cases" else table["cases"]
    return [pytest.param(case, id=case["name"]) for case in cases]


def _plugin_set(raw: dict | None) -> PluginSet:
    """``{enabled: [Name | [Name, weight]], disabled: [Name]}`` as a PluginSet."""
    raw = raw or {}

    def ref(item) -> PluginRef:
        return PluginRef(item[0], item[1]) if isinstance(item, list) else PluginRef(item)

    return PluginSet([ref(i) for i in raw.get("enabled") or []], [ref(i) for i in raw.get("disabled") or []])


def _names(plugin_set: PluginSet) -> dict:
    return {"enabled": [(p.name, p.weight) for p in plugin_set.enabled], "disabled": [p.name for p in plugin_set.disabled]}


def test_default_multipoint_list_is_upstreams():
    expected = _table("default_plugins.yaml")["defaultMultiPoint"]["enabled"]
    assert DEFAULT_MULTI_POINT == [(p["name"], p.get("weight", 0)) for p in expected]


@pytest.mark.parametrize("case", _cases("default_plugins.yaml", "merge"))
def test_merge_plugins(case):
    custom = case["custom"] or {}
    for point in PLUGINS_FIELDS:
        default = _plugin_set(case["default"].get(point))
        merged = merge_plugin_set(default, _plugin_set(custom.get(point))) if point in custom else default
        assert _names(merged) == _names(_plugin_set(case["expected"].get(point))), point


def test_default_profile_per_extension_point_is_upstreams_expanded_list():
    table = _table("expanded_default_profile.yaml")
    skipped = set(NOT_YET_IMPLEMENTED) | set(table["removed"])
    profile = Scheduler().profiles["default-scheduler"]
    for point in CONFIG_POINTS:
        upstream = [item if isinstance(item, list) else [item, None] for item in table["points"][point]]
        want = [(name, weight) for name, weight in upstream if name not in skipped]
        got = [(profile.plugins[i].name, profile.weights[i] if point == "score" else None)
               for i in profile.points[point]]
        assert got == want, point
    dropped = {name for items in table["points"].values() for item in items
               for name in [item[0] if isinstance(item, list) else item] if name in NOT_YET_IMPLEMENTED}
    assert dropped <= set(profile.not_modelled)


def _build(config: dict) -> Scheduler:
    return Scheduler(parse_config({**BASE, **config}, "config.yaml"))


@pytest.mark.parametrize("case", _cases("scheduler_defaults.yaml"))
def test_scheduler_defaults(case):
    if "expect" in case:
        _check_defaults(parse_config({**BASE, **case["config"]}, "config.yaml"), case["expect"])
    if case["accepted"]:
        _build(case["config"])
    else:
        with pytest.raises(InputError) as info:
            _build(case["config"])
        assert case["error"] in str(info.value)


def _check_defaults(parsed, expect: dict) -> None:
    for key, attr in (("percentageOfNodesToScore", "percentage_of_nodes_to_score"),
                      ("podInitialBackoffSeconds", "pod_initial_backoff_seconds"),
                      ("podMaxBackoffSeconds", "pod_max_backoff_seconds")):
        if key in expect:
            assert getattr(parsed, attr) == expect[key], key
    assert len(parsed.profiles) == len(expect["profiles"])
    default_multi_point = _names(PluginSet([PluginRef(n, w) for n, w in DEFAULT_MULTI_POINT]))
    for got, want in zip(parsed.profiles, expect["profiles"]):
        assert got.scheduler_name == want["schedulerName"]
        if "percentageOfNodesToScore" in want:
            assert got.percentage_of_nodes_to_score == want["percentageOfNodesToScore"]
        for point, raw in (want.get("plugins") or {}).items():
            assert _names(got.plugins[point]) == _names(_plugin_set(raw)), point
        assert _names(got.plugins["multiPoint"]) == default_multi_point


@pytest.mark.parametrize("case", _cases("scheme_decode.yaml"))
def test_scheme_decoding_cases_are_accepted_or_refused_as_upstream(case):
    if not case["accepted"]:
        with pytest.raises(InputError) as info:
            _build(case["config"])
        if case.get("upstreamError", "").startswith("decoding ."):  # schedkit keeps this message as upstream's
            assert case["upstreamError"] in str(info.value)
        return
    scheduler = _build(case["config"])
    if "profilePercentage" in case:
        profile_config = scheduler.config.profiles[0]
        assert profile_config.percentage_of_nodes_to_score == case["profilePercentage"]
    names = [entry["name"] for profile in case["config"].get("profiles") or [] for entry in profile.get("pluginConfig") or []]
    warned = " ".join(w for profile in scheduler.profiles.values() for w in profile.warnings)
    for name in names:
        assert (f'"{name}", which is not registered' in warned) == (name == "OutOfTreePlugin")


def test_cli_accepts_args_for_an_unregistered_plugin_and_warns(tmp_path):
    # scheme_test.go "out-of-tree plugin args": upstream starts, and runtime/framework.go NewFramework hands
    # args only to the plugins it builds, so these are never read. schedkit says so on stderr.
    from click.testing import CliRunner

    from schedkit.cli import main

    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({**BASE, "profiles": [{"pluginConfig": [{"name": "NoSuchPlugin", "args": {}}]}]}))
    nodes = tmp_path / "nodes.yaml"
    nodes.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
                                     "status": {"allocatable": {"cpu": "1", "memory": "1Gi", "pods": "10"}}}))
    pod = tmp_path / "pod.yaml"
    pod.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
                                   "spec": {"containers": [{"name": "c"}]}}))
    result = CliRunner().invoke(main, ["explain", "--cluster", str(nodes), "--pod", str(pod), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert (f'schedkit: warning: {config}: profiles[0].pluginConfig[0]: pluginConfig names plugin "NoSuchPlugin", '
            "which is not registered: kube-scheduler ignores its args") in result.stderr


def _defaulted(plugin) -> dict:
    """A built plugin's args in upstream's terms (the fields TestPluginArgsDefaults compares)."""
    from schedkit.plugins.node_resources_fit import STRATEGIES

    if plugin.name == "InterPodAffinity":
        return {"hardPodAffinityWeight": plugin.hard_pod_affinity_weight}
    if plugin.name == "NodeResourcesBalancedAllocation":  # validation allows weight 1 only
        return {"resources": [{"name": name, "weight": 1} for name in plugin.resources]}
    if plugin.name == "PodTopologySpread":
        return {"defaultingType": plugin.defaulting_type}
    if plugin.name == "NodeResourcesFit":
        kind = next(k for k, v in STRATEGIES.items() if v == plugin.strategy)
        return {"scoringStrategy": {"type": kind, "resources": [{"name": n, "weight": w} for n, w in plugin.resources]}}
    raise KeyError(plugin.name)


@pytest.mark.parametrize("case", _cases("plugin_args_defaults.yaml"))
def test_plugin_args_defaults(case):
    from schedkit.framework.registry import default_registry

    cls = default_registry().get(case["plugin"])
    if case.get("refused"):
        with pytest.raises(ValueError):
            cls(case["args"])
        return
    got = _defaulted(cls(case["args"]))
    assert got == {key: case["want"][key] for key in got}
