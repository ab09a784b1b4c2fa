"""numFeasibleNodesToFind (pkg/scheduler/schedule_one.go); cases from schedule_one_test.go
TestNumFeasibleNodesToFind, and the rotating start index over a batch."""

from __future__ import annotations

import pytest

from schedkit.framework.runtime import num_feasible_nodes_to_find


@pytest.mark.parametrize("name, percentage, nodes, expected", [
    ("not set percentageOfNodesToScore and nodes number not more than 50", 0, 10, 10),
    ("set percentageOfNodesToScore and nodes number not more than 50", 40, 10, 10),
    ("not set percentageOfNodesToScore and nodes number more than 50", 0, 1000, 420),
    ("set percentageOfNodesToScore and nodes number more than 50", 40, 1000, 400),
    ("not set percentageOfNodesToScore and nodes number more than 50*125", 0, 6000, 300),
    ("set percentageOfNodesToScore and nodes number more than 50*125", 40, 6000, 2400),
    ("adaptive keeps at least 100 nodes", 0, 150, 100),
    ("500 nodes find 230", 0, 500, 230),
    ("5000 nodes find 500", 0, 5000, 500),
    ("100 percent is every node", 100, 5000, 5000),
    ("a low percentage still finds 100", 1, 5000, 100),
])
def test_num_feasible_nodes_to_find(name, percentage, nodes, expected):
    assert num_feasible_nodes_to_find(percentage, nodes) == expected
    assert num_feasible_nodes_to_find.py_func(percentage, nodes) == expected
