"""Safety stock and reorder levels: analytic, empirical and simulation-optimised.

Conventions (docs/sizing.md): periods are demand buckets; a lead time of L periods covers L
periods of demand; continuous review protects L, periodic review (R,S) protects R + L; fill rate
is type 2 (share of demand met from stock), cycle service level type 1 (share of replenishment
cycles without a shortage).

Modules
- ``analytic``   lead-time demand, safety stock, reorder point, order-up-to, fill-rate and
                 cycle-service targets, critical ratio, EOQ, slow-mover families
- ``loss``       loss functions (normal first/second order, Poisson, negative binomial, gamma)
- ``textbook``   newsvendor, base-stock, (s,S) power approximation, (r,Q) Hadley-Whitin,
                 base-stock with Markov supplier disruptions
- ``empirical``  Monte Carlo lead-time-demand distribution from history and lead-time samples
- ``simulated``  simulation-optimised levels (service target or least cost) with CIs
- ``api``        ``size_items``: the table-level contract
- ``pooled``     protection-interval demand of many items with pooling (rate uncertainty,
                 class shrinkage, awakening of silent items, recency, level drift)
- ``calibrate``  ``calibrated_order_up_to``: portfolio (marginal) allocation of base-stock
                 levels calibrated by rolling-origin replays to an aggregate fill target
                 (docs/decision-quality.md)
"""

from bufferwise.sizing.analytic import (
    PolicyLevels,
    cost_optimal_cycle_service_level,
    critical_ratio,
    cycle_service_level_normal,
    economic_order_quantity,
    fill_rate_normal,
    lead_time_demand,
    normal_policy_levels,
    order_up_to_level_normal,
    protection_interval,
    reorder_point_for_distribution,
    reorder_point_normal,
    round_order_quantity,
    safety_factor_for_fill_rate,
    safety_stock_normal,
    service_factor,
)
from bufferwise.sizing.api import METHODS, OUTPUT_COLUMNS, REQUIRED_COLUMNS, size_items
from bufferwise.sizing.calibrate import (
    ALLOCATIONS,
    DISTRIBUTIONS,
    GROUPINGS,
    CalibratedLevels,
    calibrated_order_up_to,
    expected_fill,
    inner_origins,
)
from bufferwise.sizing.empirical import (
    EmpiricalPerformance,
    lead_time_demand_samples,
    lead_time_demand_samples_many,
    performance_from_samples,
    performance_from_samples_many,
    reorder_level_from_samples,
    reorder_levels_from_samples,
)
from bufferwise.sizing.loss import (
    gamma_loss,
    inverse_standard_normal_loss,
    negative_binomial_loss,
    normal_loss,
    normal_second_loss,
    poisson_loss,
    standard_normal_loss,
    standard_normal_second_loss,
)
from bufferwise.sizing.pooled import (
    ProtectionDemand,
    demand_classes,
    level_drift,
    protection_demand,
    protection_demand_quantile,
    protection_demand_samples,
)
from bufferwise.sizing.simulated import (
    CostOptimalSizing,
    SimulatedSizing,
    expected_cost_per_period,
    optimise_cost,
    optimise_service_level,
)
from bufferwise.sizing.textbook import (
    BaseStockSolution,
    MinMaxLevels,
    ReorderQuantityLevels,
    base_stock_with_disruptions,
    base_stock_with_disruptions_cost,
    min_max_power_approximation,
    newsvendor_normal,
    newsvendor_normal_cost,
    newsvendor_poisson,
    newsvendor_poisson_cost,
    reorder_quantity_hadley_whitin,
)

__all__ = [
    "ALLOCATIONS",
    "DISTRIBUTIONS",
    "GROUPINGS",
    "METHODS",
    "OUTPUT_COLUMNS",
    "REQUIRED_COLUMNS",
    "BaseStockSolution",
    "CalibratedLevels",
    "CostOptimalSizing",
    "EmpiricalPerformance",
    "MinMaxLevels",
    "PolicyLevels",
    "ProtectionDemand",
    "ReorderQuantityLevels",
    "SimulatedSizing",
    "base_stock_with_disruptions",
    "base_stock_with_disruptions_cost",
    "calibrated_order_up_to",
    "cost_optimal_cycle_service_level",
    "critical_ratio",
    "cycle_service_level_normal",
    "demand_classes",
    "economic_order_quantity",
    "expected_cost_per_period",
    "expected_fill",
    "fill_rate_normal",
    "gamma_loss",
    "inner_origins",
    "inverse_standard_normal_loss",
    "lead_time_demand",
    "lead_time_demand_samples",
    "lead_time_demand_samples_many",
    "level_drift",
    "min_max_power_approximation",
    "negative_binomial_loss",
    "newsvendor_normal",
    "newsvendor_normal_cost",
    "newsvendor_poisson",
    "newsvendor_poisson_cost",
    "normal_loss",
    "normal_policy_levels",
    "normal_second_loss",
    "optimise_cost",
    "optimise_service_level",
    "order_up_to_level_normal",
    "performance_from_samples",
    "performance_from_samples_many",
    "poisson_loss",
    "protection_demand",
    "protection_demand_quantile",
    "protection_demand_samples",
    "protection_interval",
    "reorder_level_from_samples",
    "reorder_levels_from_samples",
    "reorder_point_for_distribution",
    "reorder_point_normal",
    "reorder_quantity_hadley_whitin",
    "round_order_quantity",
    "safety_factor_for_fill_rate",
    "safety_stock_normal",
    "service_factor",
    "size_items",
    "standard_normal_loss",
    "standard_normal_second_loss",
]
