"""KubeSchedulerConfiguration decoding, defaulting and merging (pkg/scheduler/apis/config/v1)."""

from __future__ import annotations

import pytest

from schedkit.errors import InputError
from schedkit.framework.config import PluginRef, PluginSet, merge_plugin_set, parse_config
from schedkit.framework.scheduler import Scheduler

BASE = {"apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration"}


def names(plugin_set: PluginSet) -> list[tuple[str, int]]:
    return [(p.name, p.weight) for p in plugin_set.enabled]


def test_merge_keeps_a_reconfigured_default_plugin_in_place_with_the_custom_weight():
    default = PluginSet([PluginRef("A"), PluginRef("B", 1), PluginRef("C")])
    custom = PluginSet([PluginRef("B", 5), PluginRef("D")])
    assert names(merge_plugin_set(default, custom)) == [("A", 0), ("B", 5), ("C", 0), ("D", 0)]


def test_merge_with_star_disabled_keeps_only_the_custom_plugins_in_their_order():
    default = PluginSet([PluginRef("A"), PluginRef("B")])
    custom = PluginSet([PluginRef("C"), PluginRef("A")], [PluginRef("*")])
    assert names(merge_plugin_set(default, custom)) == [("C", 0), ("A", 0)]


def test_merge_repeated_custom_plugin_replaces_with_the_last_and_appends_the_first():
    # upstream default_plugins_test.go "RepeatedCustomPlugin"
    default = PluginSet([PluginRef("P1"), PluginRef("P2"), PluginRef("P3")])
    custom = PluginSet([PluginRef("P1"), PluginRef("P2", 2), PluginRef("P3"), PluginRef("P2", 4)])
    assert names(merge_plugin_set(default, custom)) == [("P1", 0), ("P2", 4), ("P3", 0), ("P2", 2)]


def test_merge_disabling_then_enabling_a_default_moves_it_to_the_end():
    # upstream "InsertAfterDefaultPlugins2"
    default = PluginSet([PluginRef("P1"), PluginRef("P2")])
    custom = PluginSet([PluginRef("P1")], [PluginRef("P1")])
    assert names(merge_plugin_set(default, custom)) == [("P2", 0), ("P1", 0)]


def test_default_profile_runs_upstream_plugins_in_upstream_order_with_default_weights():
    profile = Scheduler().profiles["default-scheduler"]
    filters = [profile.plugins[i].name for i in profile.points["filter"]]
    assert filters == ["NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity", "NodePorts",
                       "NodeResourcesFit", "PodTopologySpread", "InterPodAffinity"]
    weights = {profile.plugins[i].name: profile.weights[i] for i in profile.points["score"]}
    assert weights == {"TaintToleration": 3, "NodeAffinity": 2, "NodeResourcesFit": 1,
                       "NodeResourcesBalancedAllocation": 1, "ImageLocality": 1, "PodTopologySpread": 2,
                       "InterPodAffinity": 2}
    assert "VolumeBinding" in profile.not_modelled and "DefaultPreemption" not in profile.not_modelled
    assert [profile.plugins[i].name for i in profile.points["postFilter"]] == ["DefaultPreemption"]
    assert profile.claims_post_filter  # DynamicResources (not modelled) runs at PostFilter before it


def test_score_point_weight_beats_multipoint_weight_and_zero_means_one():
    config = parse_config({**BASE, "profiles": [{"plugins": {"score": {"enabled": [
        {"name": "TaintToleration", "weight": 7}, {"name": "NodeResourcesFit", "weight": 0}]}}}]})
    profile = Scheduler(config).profiles["default-scheduler"]
    weights = {profile.plugins[i].name: profile.weights[i] for i in profile.points["score"]}
    assert weights["TaintToleration"] == 7
    assert weights["NodeResourcesFit"] == 1
    # Explicitly re-configured multiPoint plugins come first (expandMultiPointPlugins' override order).
    assert [profile.plugins[i].name for i in profile.points["score"]][:2] == ["TaintToleration", "NodeResourcesFit"]


def test_disabling_a_plugin_at_one_point_keeps_it_at_the_others():
    config = parse_config({**BASE, "profiles": [{"plugins": {"score": {"disabled": [{"name": "NodeAffinity"}]}}}]})
    profile = Scheduler(config).profiles["default-scheduler"]
    assert "NodeAffinity" not in [profile.plugins[i].name for i in profile.points["score"]]
    assert "NodeAffinity" in [profile.plugins[i].name for i in profile.points["filter"]]


def test_disabling_every_filter_plugin_with_star():
    config = parse_config({**BASE, "profiles": [{"plugins": {"filter": {"disabled": [{"name": "*"}]}}}]})
    profile = Scheduler(config).profiles["default-scheduler"]
    assert profile.points["filter"] == []


def test_profile_percentage_overrides_the_global_one_even_when_zero():
    config = parse_config({**BASE, "percentageOfNodesToScore": 30,
                           "profiles": [{"schedulerName": "a", "percentageOfNodesToScore": 0}, {"schedulerName": "b"}]})
    scheduler = Scheduler(config)
    assert scheduler.profiles["a"].percentage_of_nodes_to_score == 0
    assert scheduler.profiles["b"].percentage_of_nodes_to_score == 30


@pytest.mark.parametrize("config, message", [
    ({**BASE, "profiles": [{"plugin": {}}]}, 'unknown field "profiles[0].plugin"'),
    ({**BASE, "percentageOfNodesToScore": 101}, "not in valid range [0-100]"),
    ({**BASE, "profiles": [{"schedulerName": "x"}, {"schedulerName": "x"}]}, 'Duplicate value: "x"'),
    ({**BASE, "profiles": [{"schedulerName": "x"}, {}]}, "profiles[1].schedulerName: Required value"),
    ({**BASE, "apiVersion": "kubescheduler.config.k8s.io/v1beta3"}, "unsupported apiVersion"),
    ({**BASE, "profiles": [{"plugins": {"filter": {"enabled": [{"name": "EBSLimits"}]}}}]}, "was invalid in version"),
])
def test_invalid_configuration_is_rejected_with_the_field_path(config, message):
    with pytest.raises(InputError) as info:
        parse_config(config, "config.yaml")
    assert message in str(info.value)
    assert str(info.value).startswith("config.yaml: ")


@pytest.mark.parametrize("plugins, message", [
    ({"multiPoint": {"enabled": [{"name": "NoSuchPlugin"}]}}, 'PreFilterPlugin "NoSuchPlugin" does not exist'),
    ({"filter": {"enabled": [{"name": "Typo"}]}}, 'FilterPlugin "Typo" does not exist'),
    ({"filter": {"enabled": [{"name": "PrioritySort"}]}}, 'plugin "PrioritySort" does not extend FilterPlugin plugin'),
    ({"queueSort": {"disabled": [{"name": "*"}]}}, "only one queue sort plugin required"),
    ({"bind": {"disabled": [{"name": "*"}]}}, "at least one bind plugin is needed"),
    ({"score": {"enabled": [{"name": "NodeResourcesFit", "weight": -2}]}}, "weight -2 is negative"),
])
def test_profile_errors_name_the_plugin_and_the_problem(plugins, message):
    with pytest.raises(InputError) as info:
        Scheduler(parse_config({**BASE, "profiles": [{"plugins": plugins}]}, "config.yaml"))
    assert message in str(info.value)


@pytest.mark.parametrize("args, message", [
    ({"scoringStrategy": {"type": "Leastallocated"}}, 'Unsupported value: "Leastallocated"'),
    ({"scoringStrategy": {"type": "MostAllocated", "resources": [{"name": "memory", "weight": 101}]}},
     "scoringStrategy.resources[0].weight: Invalid value: 101: resource weight of memory not in valid range (0, 100]"),
    ({"scoringStrategy": {"type": "RequestedToCapacityRatio", "requestedToCapacityRatio": {"shape": [
        {"utilization": 50, "score": 1}, {"utilization": 10, "score": 2}]}}},
     "shape[1].utilization: Invalid value: 10: values must be sorted in increasing order"),
    ({"scoringStrategy": {"type": "RequestedToCapacityRatio"}}, "must be specified when type is RequestedToCapacityRatio"),
])
def test_plugin_args_are_validated_when_the_profile_is_built(args, message):
    config = parse_config({**BASE, "profiles": [{"pluginConfig": [{"name": "NodeResourcesFit", "args": args}]}]},
                          "config.yaml")
    with pytest.raises(InputError) as info:
        Scheduler(config)
    assert message in str(info.value)
    assert "profiles[0].pluginConfig[0].args" in str(info.value)


@pytest.mark.parametrize("config, field, hint", [
    ({**BASE, "profiles": [{"plugin": {}}]}, "profiles[0].plugin", "plugins"),
    ({**BASE, "percentageOfNodesToscore": 5}, "percentageOfNodesToscore", "percentageOfNodesToScore"),
    ({**BASE, "profiles": [{"plugins": {"scores": {}}}]}, "profiles[0].plugins.scores", "score"),
    ({**BASE, "profiles": [{"plugins": {"score": {"enabled": [{"name": "ImageLocality", "wieght": 2}]}}}]},
     "profiles[0].plugins.score.enabled[0].wieght", "weight"),
])
def test_a_misspelt_field_names_itself_and_the_closest_field(config, field, hint):
    with pytest.raises(InputError) as info:
        parse_config(config, "config.yaml")
    assert str(info.value) == (f'config.yaml: {field}: strict decoding error: unknown field "{field}"; '
                               f'did you mean "{hint}"?')


@pytest.mark.parametrize("name, args, field, hint", [
    ("NodeResourcesFit", {"scoringStrategy": {"type": "MostAllocated", "resource": []}},
     "scoringStrategy.resource", "resources"),
    ("NodeResourcesFit", {"scoringStrategy": {"resources": [{"name": "cpu", "wieght": 2}]}},
     "scoringStrategy.resources[0].wieght", "weight"),
    ("NodeResourcesFit", {"scoringStrategy": {"type": "RequestedToCapacityRatio", "requestedToCapacityRatio": {
        "shape": [{"utilisation": 0, "score": 1}]}}}, "scoringStrategy.requestedToCapacityRatio.shape[0].utilisation",
     "utilization"),
    ("NodeResourcesFit", {"ignoredResource": ["a/b"]}, "ignoredResource", "ignoredResources"),
    ("NodeResourcesBalancedAllocation", {"resource": []}, "resource", "resources"),
    ("InterPodAffinity", {"hardPodAffinityWieght": 2}, "hardPodAffinityWieght", "hardPodAffinityWeight"),
    ("PodTopologySpread", {"defaultingtype": "List"}, "defaultingtype", "defaultingType"),
    ("NodeAffinity", {"addedAfinity": {}}, "addedAfinity", "addedAffinity"),
])
def test_a_misspelt_plugin_arg_names_itself_not_its_parents_fields(name, args, field, hint):
    config = parse_config({**BASE, "profiles": [{"pluginConfig": [{"name": name, "args": args}]}]}, "config.yaml")
    with pytest.raises(InputError) as info:
        Scheduler(config)
    assert f'unknown field "{field}"; did you mean "{hint}"?' in str(info.value)


def test_an_unknown_field_with_no_close_name_gets_no_hint():
    with pytest.raises(InputError) as info:
        parse_config({**BASE, "zzz": 1}, "config.yaml")
    assert str(info.value) == 'config.yaml: zzz: strict decoding error: unknown field "zzz"'
