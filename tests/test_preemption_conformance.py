"""../shared/conformance/preemption.jsonl.gz: clusters with priorities and PodDisruptionBudgets decided by
upstream kube-scheduler v1.36's own code (format in that folder's README). Every case goes through
``Scheduler.schedule`` (the path ``schedkit schedule`` takes); schedkit must end in one of the end
states upstream reached: per pending pod its node, message and nominated node, and the pods deleted.
Every case's ``explain`` steps go through ``Scheduler.explain``.

Ties between equal top scores are broken by the first node (upstream: at random; the recorded runs
list what they saw), so the scheduler runs with ``TIES_FIRST``.
"""

from __future__ import annotations

import copy
import gzip
import json
import os

import pytest

from schedkit.cluster import cluster_from_objects
from schedkit.framework.config import parse_config
from schedkit.framework.runtime import TIES_FIRST
from schedkit.framework.scheduler import Scheduler
from schedkit.manifests import SourcedObject

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(os.path.dirname(REPO), "shared", "conformance", "preemption.jsonl.gz")

if not os.path.isfile(CORPUS):
    pytest.skip(f"conformance corpus not found at {CORPUS}", allow_module_level=True)

DEFAULT_CONFIG = {"apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration",
                  "percentageOfNodesToScore": 100}

# Cases that limit the dry run (minCandidateNodes*): upstream draws the dry run's start offset at random
# (rand.Int31n), so its runs differ, and a run of schedkit is one draw from ``--seed``. These pass when
# some seed among the first OFFSET_SEEDS gives an end state upstream reached (seed 0 does for 20 of 28).
OFFSET_SEEDS = 64
# Cases where schedkit's end state is not among upstream's recorded ones (4 of 300). Strict xfails: one
# that starts to pass must leave this list.
ASYNC = ("end to end only (every explain step matches): the order in which upstream's queue retried pods "
         "around the asynchronous deletions differs from schedkit's batch queue (preemption/batch_queue.py)")
KNOWN_DIFFERENT: dict[str, str] = {
    "preempt-0118": ASYNC, "preempt-0123": ASYNC, "preempt-0189": ASYNC,
    "preempt-0253": ASYNC,
}

def _cases():
    with gzip.open(CORPUS, "rt") as handle:
        for line in handle:
            case = json.loads(line)
            yield pytest.param(case, id=case["id"])


def _end_state(case: dict, seed: int = 0) -> tuple[list, list]:
    inp = case["input"]
    cluster = _cluster(case, inp["pods"])
    scheduler = _scheduler(case)
    by_key = {pod.key: pod for pod in cluster.pods}
    result = scheduler.schedule(cluster, [by_key[key] for key in inp["pending"]], seed=seed)
    by_pod = {a.pod: a for a in result.assignments}
    pods = [(key, by_pod[key].node, by_pod[key].message, by_pod[key].nominated_node) for key in inp["pending"]]
    return pods, sorted(e.pod for e in result.evicted)


def _scheduler(case: dict) -> Scheduler:
    inp = case["input"]
    config = json.loads(inp["config"]) if "config" in inp else DEFAULT_CONFIG
    scheduler = Scheduler(parse_config(config, case["id"]))
    scheduler.ties = TIES_FIRST
    return scheduler


def _cluster(case: dict, pods: list[dict]):
    inp = case["input"]
    items = inp["nodes"] + pods + inp["namespaces"] + inp["objects"]
    return cluster_from_objects([SourcedObject(obj, case["id"], f"items[{i}]") for i, obj in enumerate(items)])


def _limits_dry_run(case: dict) -> bool:
    return "DefaultPreemption" in case["input"].get("config", "")


@pytest.mark.parametrize("case", list(_cases()))
def test_preemption_case_ends_as_upstream(request, case):
    if case["id"] in KNOWN_DIFFERENT:
        request.applymarker(pytest.mark.xfail(reason=KNOWN_DIFFERENT[case["id"]], strict=True))
    wanted = [([(p["pod"], p["node"], p["message"], p["nominatedNode"]) for p in outcome["pods"]],
               sorted(outcome["deleted"])) for outcome in case["outcomes"]]
    pods, deleted = _end_state(case)
    if (pods, deleted) not in wanted and _limits_dry_run(case):
        # another draw of the dry run's offset, as another run of upstream would make
        reached = next((seed for seed in range(1, OFFSET_SEEDS) if _end_state(case, seed) in wanted), None)
        assert reached is not None, f"no seed below {OFFSET_SEEDS} gives one of upstream's end states: {wanted}"
        return
    assert (pods, deleted) in wanted, f"schedkit: {pods} deleted {deleted}; upstream: {wanted}"


@pytest.mark.parametrize("case", list(_cases()))
def test_each_explain_step_as_upstream(case):
    """The case's ``explain`` steps: each pending pod, in input order, on the cluster as upstream's step
    left it (earlier pods bound to their node, or nominated with their victims gone). The message, the
    node (one of the top-scoring ones) and, unless the case limits the dry run (a random offset
    upstream), the nominated node and victims."""
    inp = case["input"]
    pods = {f"{p['metadata'].get('namespace', 'default')}/{p['metadata']['name']}": copy.deepcopy(p)
            for p in inp["pods"]}
    scheduler = _scheduler(case)
    for step in case["explain"]:
        cluster = _cluster(case, list(pods.values()))
        pod = next(p for p in cluster.pods if p.key == step["pod"])
        explanation = scheduler.explain(cluster, pod)
        where = f"{case['id']} {step['pod']}"
        assert explanation.message == step["message"], where
        if step["selectedNode"]:
            assert explanation.selected_node in step["topNodes"], where
        else:
            assert explanation.selected_node is None, where
        assert (explanation.nominated_node is None) == (step["nominatedNode"] is None), where
        if not _limits_dry_run(case):
            assert (explanation.nominated_node, explanation.victims) == (step["nominatedNode"],
                                                                        sorted(step["victims"])), where
        manifest = pods[step["pod"]]
        if step["selectedNode"]:
            manifest["spec"]["nodeName"] = step["selectedNode"]
        elif step["nominatedNode"]:
            manifest.setdefault("status", {})["nominatedNodeName"] = step["nominatedNode"]
            for victim in step["victims"]:
                del pods[victim]
