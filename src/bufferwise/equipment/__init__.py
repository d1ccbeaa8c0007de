"""Equipment: OEE and losses, reliability, JIT readiness, WIP buffer sizing, hidden loss.

Pure functions on canonical DataFrames (see `bufferwise.model.schema`); no storage, CLI or file
I/O. Start with `analyze_equipment`; docs/equipment.md describes definitions and sources.
"""

from bufferwise.equipment.conventions import OeeConventions, describe_conventions
from bufferwise.equipment.hidden_loss import (
    HiddenLoss,
    buffer_after_improvement,
    hidden_loss,
    improvement_table,
    stop_hours_ridden_out,
)
from bufferwise.equipment.item_risk import (
    SupplyOutageProcess,
    item_outage_processes,
    outage_process,
)
from bufferwise.equipment.lines import (
    BernoulliLineResult,
    CoverageBuffer,
    ExponentialLineResult,
    SerialLineResult,
    SimulationEstimate,
    bernoulli_two_machine,
    exponential_two_machine,
    fluid_two_machine,
    infinite_buffer_production_rate,
    repair_coverage_buffer,
    simulate_bernoulli_line,
    simulate_serial_line,
    simulate_two_machine_fluid,
    smallest_buffer,
    zero_buffer_production_rate,
)
from bufferwise.equipment.oee import (
    compute_oee,
    loss_pareto,
    rollup_oee,
    teep_from_oee,
)
from bufferwise.equipment.readiness import (
    Readiness,
    ReadinessCriteria,
    jit_readiness,
    readiness_table,
)
from bufferwise.equipment.reliability import (
    ExponentialFit,
    WeibullFit,
    failure_stops,
    fit_exponential,
    fit_weibull,
    reliability_by_component,
    reliability_by_machine,
    time_between_failures,
)
from bufferwise.equipment.report import (
    BUFFER_COLUMNS,
    MACHINE_COLUMNS,
    EquipmentReport,
    analyze_equipment,
    simulate_measured_line,
)

__all__ = [
    "BUFFER_COLUMNS",
    "MACHINE_COLUMNS",
    "BernoulliLineResult",
    "CoverageBuffer",
    "EquipmentReport",
    "ExponentialFit",
    "ExponentialLineResult",
    "HiddenLoss",
    "OeeConventions",
    "Readiness",
    "ReadinessCriteria",
    "SerialLineResult",
    "SimulationEstimate",
    "SupplyOutageProcess",
    "WeibullFit",
    "analyze_equipment",
    "bernoulli_two_machine",
    "buffer_after_improvement",
    "compute_oee",
    "describe_conventions",
    "exponential_two_machine",
    "failure_stops",
    "fit_exponential",
    "fit_weibull",
    "fluid_two_machine",
    "hidden_loss",
    "improvement_table",
    "infinite_buffer_production_rate",
    "item_outage_processes",
    "jit_readiness",
    "loss_pareto",
    "outage_process",
    "readiness_table",
    "reliability_by_component",
    "reliability_by_machine",
    "repair_coverage_buffer",
    "rollup_oee",
    "simulate_bernoulli_line",
    "simulate_measured_line",
    "simulate_serial_line",
    "simulate_two_machine_fluid",
    "smallest_buffer",
    "stop_hours_ridden_out",
    "teep_from_oee",
    "time_between_failures",
    "zero_buffer_production_rate",
]
