"""Every threshold of the decide layer, in one frozen dataclass (docs/decide.md lists them)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bufferwise.equipment.constants import DEFAULT_MIN_AVAILABILITY
from bufferwise.errors import InvalidInput
from bufferwise.profile.demand import BUCKET_DAYS


@dataclass(frozen=True, slots=True)
class DiagnoseSettings:
    """Thresholds of the mistake diagnostics (docs/decide.md, "Mistake diagnostics").

    min_money_per_year      [money / year] a finding must be worth at least this much a year
    dogmatic_max_share      dogmatic_jit: the current safety stock is at most this share of the
                            recommended one
    dogmatic_min_excess_share   ... and its expected annual cost exceeds the recommended one by
                            at least this share of it
    dogmatic_max_fill_rate  ... and it leaves the item short: expected fill rate below this
    lazy_ratio              lazy_jic: current safety stock at least this multiple of the need
    lazy_min_excess_days    [days of cover] ... and at least this many days of demand above it
    lazy_min_excess_value   [money] ... and at least this much stock value above it
    uniform_band            one_policy_for_all: items whose current days of cover lie within
                            +- this share of a common value form a group
    uniform_min_items       ... of at least this many items (and `uniform_min_share` of all)
    uniform_min_share
    uniform_risk_spread     ... while the cover their risk calls for (recommended days of cover)
                            spreads over the group: (90th - 10th percentile) / the common cover
                            at least this much
    review_horizon_days     set_and_forget: a buffer set more than this long before the end of
                            the data is due for review
    drift_recent_days       [days] the recent window compared with the earlier data
    lead_time_growth        set_and_forget also fires when the recent measured lead time is at
                            least this multiple of the nominal one
    machine_availability    hidden_loss: the item's machine is unreliable below this availability
                            (of its outage process, MTBF / (MTBF + MTTR)); by default the
                            bar of JIT readiness, equipment.constants.DEFAULT_MIN_AVAILABILITY
    """

    min_money_per_year: float = 100.0
    dogmatic_max_share: float = 0.5
    dogmatic_min_excess_share: float = 0.25
    dogmatic_max_fill_rate: float = 0.98
    lazy_ratio: float = 3.0
    lazy_min_excess_days: float = 14.0
    lazy_min_excess_value: float = 50.0
    uniform_band: float = 0.03
    uniform_min_items: int = 10
    uniform_min_share: float = 0.03
    uniform_risk_spread: float = 1.0
    review_horizon_days: float = 365.0
    drift_recent_days: int = 365
    lead_time_growth: float = 1.5
    machine_availability: float = DEFAULT_MIN_AVAILABILITY


@dataclass(frozen=True, slots=True)
class DecideSettings:
    """Settings of `decide_items`; units in the names or stated.

    Risk model
    bucket                  demand bucket the policy is simulated in ("day", "week", "month")
    recent_days             [days] window of demand (and receipts, when it holds at least
                            `min_recent_receipts`) that describes today's risk
    min_recent_receipts     fewer receipts of an item in the recent window: use all its receipts
    min_item_receipts       fewer receipts of an item in all: use its supplier's lead times
    rare_outage_return_years  strategic layer: one rare long outage of the supplier per this
                            many years
    rare_outage_min_days    [days] the rare outage lasts at least this long
    strategic_criticality   criticality levels eligible for the strategic stance
    strategic_min_lead_time_days  [days] "long lead": nominal (or measured) lead time at least this

    Simulation (kernel) and cost curve
    sim_years               simulated years per replication (after warm-up)
    replications            independent replications per level (common random numbers across
                            levels of one item)
    warmup_days             [days] simulated before statistics are collected
    grid_points             safety-stock levels per item and risk layer (0 included)
    rare_sim_factor         the strategic layer simulates this many times longer (rare events)
    sim_budget              [item-periods] the most the cost curves may simulate, estimated as
                            items x 2 layers x grid_points x replications x (warm-up + sim_years)
                            periods. A larger portfolio is simulated shorter, in this order,
                            until it fits: sim_years down to `min_sim_years`, replications down
                            to 2, grid_points down to `min_grid_points` (docs/performance.md:
                            the default keeps the example plant at full length and takes a
                            100,000-item plant down to 2 years x 2 replications x 8 levels)
    min_sim_years           floor of sim_years under the budget
    min_grid_points         floor of grid_points under the budget
    grid_extensions         the most times the grid of an item whose least cost lies at the
                            grid's top (cost still falling there) is doubled and simulated again
                            (that item only, same points, same random numbers); the bound of the
                            grid is then 2 ** grid_extensions x its first top. An item still at
                            the top after that is flagged `grid_capped` (0 = never extend)
    grid_extension_share    the extensions may simulate at most this share of `sim_budget`
                            item-periods in all; a round that would exceed it is not run and its
                            items stay at their grid's top (flagged)

    Stance
    tie_relative            tie rule: a level within this share of the least cost is a tie
    tie_absolute            [money / year] ... or within this absolute amount
    cover_shortage_share    normal / disruption cover: the smallest level at which the layer's
                            expected shortage is at most this share of demand

    Calibrated levels (decide/calibration.py)
    calibrate               items replenished every bucket with only normal risk get base-stock
                            levels calibrated out of sample to the fill their cost-chosen levels
                            promised (true by default)
    calibration_min_items   fewer such items: not calibrated (one knob needs a portfolio)
    calibration_min_periods fewer buckets of history: not calibrated (half fits, half replays)

    Items held at no buffer (decide/analysis.py, `zero_buffer_rule`): an item with no demand in
    its whole fitting history always is
    obsolete_no_buffer      an item the demand profile flags obsolete (trailing run of zero
                            periods >= 3 x its ADI) is held at no buffer too (true by default;
                            false leaves it to the cost curves and the calibration, which
                            stocks it at its own rate)
    obsolete_min_days       ... and only when its last demand lies at least this many days
                            before the end of the history (90; the profile's flag counts
                            periods, which on a daily bucket are days)
    """

    bucket: str = "day"
    recent_days: int = 365
    min_recent_receipts: int = 8
    min_item_receipts: int = 4
    rare_outage_return_years: float = 10.0
    rare_outage_min_days: float = 30.0
    strategic_criticality: tuple[str, ...] = ("critical",)
    strategic_min_lead_time_days: float = 30.0
    sim_years: float = 8.0
    replications: int = 4
    warmup_days: int = 120
    grid_points: int = 16
    rare_sim_factor: int = 3
    sim_budget: float = 2.0e9
    min_sim_years: float = 2.0
    min_grid_points: int = 8
    grid_extensions: int = 3
    grid_extension_share: float = 0.25
    tie_relative: float = 0.02
    tie_absolute: float = 1.0
    cover_shortage_share: float = 0.001
    calibrate: bool = True
    calibration_min_items: int = 20
    calibration_min_periods: int = 12
    obsolete_no_buffer: bool = True
    obsolete_min_days: float = 90.0
    diagnose: DiagnoseSettings = field(default_factory=DiagnoseSettings)

    def __post_init__(self) -> None:
        if self.bucket not in ("day", "week", "month"):
            raise InvalidInput(f"settings.bucket {self.bucket!r} is not one of day, week, month")
        if self.grid_points < 3:
            raise InvalidInput(f"settings.grid_points = {self.grid_points}: need at least 3")
        if self.replications < 2:
            raise InvalidInput(f"settings.replications = {self.replications}: need at least 2")
        if not (0 < self.cover_shortage_share < 1):
            raise InvalidInput("settings.cover_shortage_share must be in (0, 1)")
        if not (0 <= self.tie_relative < 1) or self.tie_absolute < 0:
            raise InvalidInput("settings.tie_relative must be in [0, 1), tie_absolute >= 0")
        if self.sim_budget <= 0 or self.min_sim_years <= 0 or self.min_grid_points < 3:
            raise InvalidInput(
                "settings.sim_budget and min_sim_years must be > 0, min_grid_points >= 3"
            )
        if self.grid_extensions < 0 or not (0 <= self.grid_extension_share <= 1):
            raise InvalidInput(
                "settings.grid_extensions must be >= 0 and grid_extension_share in [0, 1]"
            )
        if self.sim_years <= 0 or self.recent_days < 28:
            raise InvalidInput("settings.sim_years must be > 0 and recent_days >= 28")
        if self.calibration_min_items < 1 or self.calibration_min_periods < 4:
            raise InvalidInput(
                "settings.calibration_min_items must be >= 1 and calibration_min_periods >= 4"
            )


def simulation_effort(settings: DecideSettings, n_items: int) -> int:
    """Estimated item-periods of the cost curves (the measure `sim_budget` bounds)."""
    bucket_days = BUCKET_DAYS[settings.bucket]
    periods = settings.warmup_days / bucket_days + settings.sim_years * 365.0 / bucket_days
    return round(n_items * 2 * settings.grid_points * settings.replications * periods)


def within_budget(settings: DecideSettings, n_items: int) -> DecideSettings:
    """The settings shortened to fit `sim_budget` for n_items (field docs of DecideSettings);
    the settings themselves when they fit. Deterministic: depends on n_items only."""
    st = settings
    if simulation_effort(st, n_items) <= st.sim_budget:
        return st
    bucket_days = BUCKET_DAYS[st.bucket]
    warm = st.warmup_days / bucket_days
    per_year = 365.0 / bucket_days
    # sim_years first: the budget over (items x 2 x grid x replications) gives the periods
    room = st.sim_budget / (max(n_items, 1) * 2 * st.grid_points * st.replications)
    years = max(st.min_sim_years, min(st.sim_years, (room - warm) / per_year))
    st = replace(st, sim_years=round(years, 2))
    if simulation_effort(st, n_items) > st.sim_budget:
        periods = warm + st.sim_years * per_year
        reps = int(st.sim_budget // (max(n_items, 1) * 2 * st.grid_points * periods))
        st = replace(st, replications=max(2, min(st.replications, reps)))
    if simulation_effort(st, n_items) > st.sim_budget:
        periods = warm + st.sim_years * per_year
        grid = int(st.sim_budget // (max(n_items, 1) * 2 * st.replications * periods))
        st = replace(st, grid_points=max(st.min_grid_points, min(st.grid_points, grid)))
    return st


__all__ = ["DecideSettings", "DiagnoseSettings", "simulation_effort", "within_budget"]
