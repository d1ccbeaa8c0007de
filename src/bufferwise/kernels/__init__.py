"""Monte Carlo and numeric kernels: arrays, scalars and a seed in; arrays out.

Imports nothing else from bufferwise. ``inventory`` holds the numba policy simulation and its
validated entry points; ``reference`` its plain-Python twin; ``random`` the counter-based
generator both share; ``replay`` the base-stock replay on real demand.
"""

from bufferwise.kernels.inventory import (
    DEMAND_EMPIRICAL,
    DEMAND_GAMMA,
    DEMAND_NORMAL,
    DEMAND_POISSON,
    METRICS,
    POLICY_BASE_STOCK,
    POLICY_JIT,
    POLICY_MIN_MAX,
    POLICY_ORDER_UP_TO,
    POLICY_REORDER_QUANTITY,
    SimulationInputs,
    SimulationResult,
    lead_time_demand_kernel,
    prepare_inputs,
    resolve_seed,
    run_simulation,
    run_simulation_levels,
    simulate_levels_kernel,
    simulate_policy,
    simulate_policy_kernel,
    take_rows,
)
from bufferwise.kernels.replay import replay_base_stock, replay_base_stock_by_period

__all__ = [
    "DEMAND_EMPIRICAL",
    "DEMAND_GAMMA",
    "DEMAND_NORMAL",
    "DEMAND_POISSON",
    "METRICS",
    "POLICY_BASE_STOCK",
    "POLICY_JIT",
    "POLICY_MIN_MAX",
    "POLICY_ORDER_UP_TO",
    "POLICY_REORDER_QUANTITY",
    "SimulationInputs",
    "SimulationResult",
    "lead_time_demand_kernel",
    "prepare_inputs",
    "replay_base_stock",
    "replay_base_stock_by_period",
    "resolve_seed",
    "run_simulation",
    "run_simulation_levels",
    "simulate_levels_kernel",
    "simulate_policy",
    "simulate_policy_kernel",
    "take_rows",
]
