"""Debugging a plugin: NUMBA_DISABLE_JIT=1 (numba's switch for stepping through kernels in a Python
debugger) runs explain, schedule and the plugin API as plain Python, with the same decisions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(REPO, "examples")

# The documented example plugin through the library API: explain, schedule and check_plugin.
PLUGIN_API_SCRIPT = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, "docs")
    from example_plugin import PreferCheapNodes
    from schedkit import Registry, Scheduler, parse_config
    from schedkit.framework.plugin import is_compiled
    from schedkit.testing import check_plugin, make_cluster, make_pod

    nodes = [{"metadata": {"name": name, "labels": labels},
              "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "10"}}}
             for name, labels in [("cheap", {"example.com/hourly-cost": "10"}),
                                  ("pricey", {"example.com/hourly-cost": "90"}),
                                  ("retired", {"example.com/retiring": "true"})]]
    pods = [make_pod({"metadata": {"name": f"p{i}"}, "spec": {"containers": [
        {"name": "c", "resources": {"requests": {"cpu": "1500m"}}}]}}) for i in range(5)]
    config = parse_config({"apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration",
                           "profiles": [{"plugins": {"multiPoint": {"enabled": [
                               {"name": "PreferCheapNodes", "weight": 5}]}}}]})
    scheduler = Scheduler(config, Registry.with_builtins(PreferCheapNodes))
    explanation = scheduler.explain(make_cluster(nodes), pods[0])
    result = scheduler.schedule(make_cluster(nodes), pods)
    check_plugin(PreferCheapNodes, examples=2)
    print(json.dumps({
        "compiled": is_compiled(PreferCheapNodes.kernels.score),
        "explain": [explanation.selected_node] + [[n.name, n.reasons, n.scores, n.total_score]
                                                  for n in explanation.nodes],
        "schedule": [[a.pod, a.node, a.message] for a in result.assignments],
    }))
""")


def _run(args: list[str], disable_jit: bool) -> str:
    env = dict(os.environ)
    env.pop("NUMBA_DISABLE_JIT", None)
    if disable_jit:
        env["NUMBA_DISABLE_JIT"] = "1"
    done = subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def _decisions(schedule_json: str) -> list:
    return [(a["pod"], a["node"], a["message"]) for a in json.loads(schedule_json)["assignments"]]


def test_numba_disable_jit_gives_the_same_explain_and_schedule_as_the_compiled_run():
    explain = ["-m", "schedkit", "explain", "--cluster", os.path.join(EXAMPLES, "cluster.yaml"),
               "--pod", os.path.join(EXAMPLES, "pod.yaml"), "-o", "json"]
    assert json.loads(_run(explain, disable_jit=True)) == json.loads(_run(explain, disable_jit=False))
    schedule = ["-m", "schedkit", "schedule", "--cluster", os.path.join(EXAMPLES, "cluster.yaml"), "-o", "json"]
    python = _decisions(_run(schedule, disable_jit=True))
    assert python == _decisions(_run(schedule, disable_jit=False))
    assert any(node for _, node, _ in python) and any(message for _, _, message in python)


def test_numba_disable_jit_runs_a_third_party_plugin_through_the_plugin_api():
    python = json.loads(_run(["-c", PLUGIN_API_SCRIPT], disable_jit=True))
    compiled = json.loads(_run(["-c", PLUGIN_API_SCRIPT], disable_jit=False))
    assert (python.pop("compiled"), compiled.pop("compiled")) == (False, True)
    assert python == compiled
    assert python["explain"][0] == "cheap"
