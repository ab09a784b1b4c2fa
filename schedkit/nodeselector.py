"""Node selector terms compiled to integer tables, and the kernel that matches them against a node.

Semantics: staging k8s.io/component-helpers/scheduling/corev1/nodeaffinity/nodeaffinity.go and
k8s.io/apimachinery/pkg/labels/selector.go (``Requirement.Matches``). Terms are ORed; within a term
every requirement must hold. A term with no requirements, or with a requirement that does not parse
(bad operator/value count, Gt/Lt value that is not an integer, invalid label value, matchFields on a
key other than metadata.name), matches no node.
"""

from __future__ import annotations

import re
from collections import namedtuple
from dataclasses import dataclass, field

import numpy as np

from .framework.plugin import kernel
from .objects import NodeSelectorTerm, Requirement
from .state import ClusterState, parse_go_int64

OP_IN, OP_NOT_IN, OP_EXISTS, OP_DOES_NOT_EXIST, OP_GT, OP_LT, OP_NAME_IN, OP_NAME_NOT_IN = range(8)
OPERATOR_CODES = {"In": OP_IN, "NotIn": OP_NOT_IN, "Exists": OP_EXISTS, "DoesNotExist": OP_DOES_NOT_EXIST,
                  "Gt": OP_GT, "Lt": OP_LT}

# apimachinery/pkg/util/validation: label values are at most 63 characters of this form (or empty).
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
OBJECT_NAME_FIELD = "metadata.name"

# ``TermTables.arrays()``: the tables as kernels read them (``term_matches``'s arguments).
TermArrays = namedtuple(
    "TermArrays",
    [
        "term_indptr",  # int64 [terms + 1]: CSR over the requirement arrays
        "term_valid",  # bool [terms]: False: the term matches nothing
        "req_key",  # int64 [requirements]: label-key id; -1 for metadata.name
        "req_op",  # int64 [requirements]: OP_* code
        "req_number",  # int64 [requirements]: the integer of Gt/Lt
        "value_indptr",  # int64 [requirements + 1]: CSR over values
        "values",  # int64 [values]: label-value ids (for metadata.name: the node row, -1 none)
    ],
)


def _valid_value(value: str) -> bool:
    return len(value) <= 63 and _LABEL_VALUE.match(value) is not None


@dataclass
class TermTables:
    """CSR tables: terms -> requirements -> values. ``term_valid`` False: the term matches nothing."""

    term_indptr: list[int] = field(default_factory=lambda: [0])
    term_valid: list[bool] = field(default_factory=list)
    req_key: list[int] = field(default_factory=list)
    req_op: list[int] = field(default_factory=list)
    req_number: list[int] = field(default_factory=list)
    value_indptr: list[int] = field(default_factory=lambda: [0])
    values: list[int] = field(default_factory=list)

    def _requirement(self, state: ClusterState, req: Requirement, is_field: bool, validate: bool = True) -> bool:
        """Append one requirement; False if it does not parse."""
        number = 0
        values: list[int] = []
        if is_field:
            if req.operator not in ("In", "NotIn") or len(req.values) != 1:
                return False
            if req.key != OBJECT_NAME_FIELD:
                # The node's field set holds only metadata.name, so any other key reads as "": the
                # requirement is constantly true or false (the API server rejects such pods anyway).
                if (req.values[0] == "") == (req.operator == "In"):
                    return True  # always holds: nothing to check
                op = OP_NAME_IN
                values = [-1]  # matches no node
            else:
                op = OP_NAME_IN if req.operator == "In" else OP_NAME_NOT_IN
                values = [state.node_index.get(req.values[0], -1)]
        else:
            op = OPERATOR_CODES[req.operator]
            if op in (OP_IN, OP_NOT_IN) and not req.values:
                return False
            if op in (OP_EXISTS, OP_DOES_NOT_EXIST) and req.values:
                return False
            if op in (OP_GT, OP_LT):
                parsed = parse_go_int64(req.values[0]) if len(req.values) == 1 else None
                if parsed is None or (validate and not _valid_value(req.values[0])):
                    return False
                number = parsed
            elif validate and not all(_valid_value(v) for v in req.values):
                return False
            values = [state.label_values(v) for v in req.values] if op in (OP_IN, OP_NOT_IN) else []
        self.req_key.append(state.label_keys(req.key) if not is_field else -1)
        self.req_op.append(op)
        self.req_number.append(number)
        self.values.extend(values)
        self.value_indptr.append(len(self.values))
        return True

    def add_term(self, state: ClusterState, term: NodeSelectorTerm | list[Requirement], validate: bool = True) -> int:
        """Append a term; returns its index. ``validate`` False for a nodeSelector map, which upstream
        turns into a selector without validating it (labels.SelectorFromSet)."""
        if isinstance(term, NodeSelectorTerm):
            reqs = [(r, False) for r in term.match_expressions] + [(r, True) for r in term.match_fields]
        else:
            reqs = [(r, False) for r in term]
        valid = bool(reqs)
        for req, is_field in reqs:
            if valid and not self._requirement(state, req, is_field, validate):
                valid = False
        if not valid:  # drop whatever was appended for it; an invalid term needs no requirements
            done = self.term_indptr[-1]
            del self.req_key[done:], self.req_op[done:], self.req_number[done:]
            del self.value_indptr[done + 1:]
            del self.values[self.value_indptr[-1]:]
        self.term_valid.append(valid)
        self.term_indptr.append(len(self.req_key))
        return len(self.term_valid) - 1

    def arrays(self) -> TermArrays:
        return TermArrays(
            np.asarray(self.term_indptr, dtype=np.int64),
            np.asarray(self.term_valid, dtype=np.bool_),
            np.asarray(self.req_key, dtype=np.int64),
            np.asarray(self.req_op, dtype=np.int64),
            np.asarray(self.req_number, dtype=np.int64),
            np.asarray(self.value_indptr, dtype=np.int64),
            np.asarray(self.values, dtype=np.int64),
        )


@kernel
def node_label(nodes, n, key):
    """Interned value of label ``key`` on node ``n``, -1 when absent (keys no node has are absent)."""
    if key < 0 or key >= nodes.label_value.shape[1]:
        return -1
    return nodes.label_value[n, key]


@kernel
def term_matches(nodes, n, t, term_indptr, term_valid, req_key, req_op, req_number, value_indptr, values):
    if not term_valid[t]:
        return False
    for r in range(term_indptr[t], term_indptr[t + 1]):
        op = req_op[r]
        if op == OP_NAME_IN or op == OP_NAME_NOT_IN:
            same = values[value_indptr[r]] == n
            if same != (op == OP_NAME_IN):
                return False
            continue
        value = node_label(nodes, n, req_key[r])
        if op == OP_EXISTS:
            ok = value >= 0
        elif op == OP_DOES_NOT_EXIST:
            ok = value < 0
        elif op == OP_IN or op == OP_NOT_IN:
            found = False
            if value >= 0:
                for k in range(value_indptr[r], value_indptr[r + 1]):
                    if values[k] == value:
                        found = True
                        break
            ok = found if op == OP_IN else not found
        else:  # Gt, Lt: the label must parse as an int64
            if value < 0 or value >= nodes.value_is_int.shape[0] or not nodes.value_is_int[value]:
                ok = False
            elif op == OP_GT:
                ok = nodes.value_int[value] > req_number[r]
            else:
                ok = nodes.value_int[value] < req_number[r]
        if not ok:
            return False
    return True
