"""../shared/conformance/preemption.jsonl.gz: clusters with priorities and PodDisruptionBudgets decided by
upstream kube-scheduler v1.36's own code (format in that folder's README). Every case goes through
``Scheduler.schedule`` (the path ``schedkit schedule`` takes); schedkit must end in one of the end
states upstream reached: per pending pod its node, message and nominated node, and the pods deleted.

Ties between equal top scores are broken by the first node (upstream: at random; the recorded runs
list what they saw), so the scheduler runs with ``TIES_FIRST``.
"""

from __future__ import annotations

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

# Cases where schedkit's end state is not among upstream's, each with what differs. Kept short and
# explicit: the issue stays open until this is empty.
KNOWN_DIFFERENT: dict[str, str] = {}


def _cases():
    with gzip.open(CORPUS, "rt") as handle:
        for line in handle:
            case = json.loads(line)
            yield pytest.param(case, id=case["id"])


def _end_state(case: dict) -> tuple[list, list]:
    inp = case["input"]
    items = inp["nodes"] + inp["pods"] + inp["namespaces"] + inp["objects"]
    cluster = cluster_from_objects([SourcedObject(obj, case["id"], f"items[{i}]") for i, obj in enumerate(items)])
    config = json.loads(inp["config"]) if "config" in inp else DEFAULT_CONFIG
    scheduler = Scheduler(parse_config(config, case["id"]))
    scheduler.ties = TIES_FIRST
    by_key = {pod.key: pod for pod in cluster.pods}
    result = scheduler.schedule(cluster, [by_key[key] for key in inp["pending"]])
    by_pod = {a.pod: a for a in result.assignments}
    pods = [(key, by_pod[key].node, by_pod[key].message, by_pod[key].nominated_node) for key in inp["pending"]]
    return pods, sorted(e.pod for e in result.evicted)


@pytest.mark.parametrize("case", list(_cases()))
def test_preemption_case_ends_as_upstream(case):
    if case["id"] in KNOWN_DIFFERENT:
        pytest.xfail(KNOWN_DIFFERENT[case["id"]])
    pods, deleted = _end_state(case)
    wanted = [([(p["pod"], p["node"], p["message"], p["nominatedNode"]) for p in outcome["pods"]],
               sorted(outcome["deleted"])) for outcome in case["outcomes"]]
    assert (pods, deleted) in wanted, f"schedkit: {pods} deleted {deleted}; upstream: {wanted}"
