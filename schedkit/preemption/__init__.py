"""Priority and preemption: DefaultPreemption's evaluation, the PostFilter message, and a batch
scheduled with preemption (see each module)."""

from .evaluator import Candidate, PreemptionArgs, PreemptionOutcome

__all__ = ["Candidate", "PreemptionArgs", "PreemptionOutcome"]
