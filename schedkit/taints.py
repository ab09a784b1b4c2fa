"""Taints and tolerations: upstream's matching rule in Python and as a kernel over interned tables.

Source: staging k8s.io/api/core/v1/toleration.go (``ToleratesTaint``). A toleration tolerates a taint
when its effect is empty or equal, its key is empty or equal, and its operator matches: Exists any
value, Equal (or empty) an equal value. Lt/Gt compare integers only behind the alpha gate
TaintTolerationComparisonOperators, off by default in v1.36, so they never match here.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .framework.plugin import kernel
from .objects import Taint, Toleration
from .state import EFFECT_ALL, EFFECT_CODES, ClusterState

TOL_EQUAL, TOL_EXISTS, TOL_LT, TOL_GT = 0, 1, 2, 3
_TOL_CODES = {"Equal": TOL_EQUAL, "Exists": TOL_EXISTS, "Lt": TOL_LT, "Gt": TOL_GT}
KEY_ANY = -1

# ``toleration_tables``: every pod's tolerations as CSR (``tolerated``'s arguments).
Tolerations = namedtuple(
    "Tolerations",
    [
        "indptr",  # int64 [pods + 1]: CSR over the toleration arrays
        "key",  # int64 [tolerations]: label-key id, KEY_ANY for an empty key
        "operator",  # int64 [tolerations]: TOL_* code
        "value",  # int64 [tolerations]: label-value id
        "effect",  # int64 [tolerations]: EFFECT_CODES, EFFECT_ALL for an empty effect
    ],
)


def tolerates(toleration: Toleration, taint: Taint) -> bool:
    if toleration.effect and toleration.effect != taint.effect:
        return False
    if toleration.key and toleration.key != taint.key:
        return False
    if toleration.operator == "Exists":
        return True
    if toleration.operator == "Equal":
        return toleration.value == taint.value
    return False


def toleration_tables(state: ClusterState, pods: list) -> Tolerations:
    """CSR of every pod's tolerations: indptr, key (-1 empty), operator, value, effect (-1 empty)."""
    indptr = np.zeros(len(pods) + 1, dtype=np.int64)
    key, operator, value, effect = [], [], [], []
    for i, pod in enumerate(pods):
        for t in pod.tolerations:
            key.append(state.label_keys(t.key) if t.key else KEY_ANY)
            operator.append(_TOL_CODES[t.operator])
            value.append(state.label_values(t.value))
            effect.append(EFFECT_CODES[t.effect] if t.effect else EFFECT_ALL)
        indptr[i + 1] = len(key)
    return Tolerations(indptr, np.asarray(key, dtype=np.int64), np.asarray(operator, dtype=np.int64),
                       np.asarray(value, dtype=np.int64), np.asarray(effect, dtype=np.int64))


@kernel
def tolerated(nodes, t, p, tol_indptr, tol_key, tol_op, tol_value, tol_effect, only_prefer):
    """Whether pod ``p`` tolerates node taint row ``t``. ``only_prefer`` considers only tolerations with
    an empty or PreferNoSchedule effect (TaintToleration's PreScore)."""
    for k in range(tol_indptr[p], tol_indptr[p + 1]):
        effect = tol_effect[k]
        if only_prefer and effect != EFFECT_ALL and effect != 1:
            continue
        if effect != EFFECT_ALL and effect != nodes.taint_effect[t]:
            continue
        if tol_key[k] != KEY_ANY and tol_key[k] != nodes.taint_key[t]:
            continue
        if tol_op[k] == TOL_EXISTS:
            return True
        if tol_op[k] == TOL_EQUAL and tol_value[k] == nodes.taint_value[t]:
            return True
    return False
