"""Simulation over real and drawn demand: replays and scenarios orchestrated over kernels.

``replay``  replay of a periodic-review, order-up-to policy with backorders on the real
            held-out demand, numba-vectorised over items (docs/decision-quality.md)
"""

from bufferwise.simulate.replay import ReplayResult, aggregate_fill_rate, replay_order_up_to

__all__ = ["ReplayResult", "aggregate_fill_rate", "replay_order_up_to"]
