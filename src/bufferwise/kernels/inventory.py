"""Monte Carlo simulation of single-item inventory policies, items x periods x replications.

Everything is arrays in, arrays out (``simulate_policy_kernel``); ``simulate_policy`` validates the
arrays once and returns means, standard errors and per-replication figures.

Event order in every period t = 0, 1, ..., periods - 1 (docs/sizing.md, "Conventions"):

1. supplier state: an up supplier goes down with probability ``outage_start_prob``; a down one
   comes back after its drawn outage length (or with probability ``outage_recovery_prob`` per
   period when no outage lengths are given);
2. receive: every order due in period t arrives, unless the supplier is down, in which case it
   waits and arrives in the first period the supplier is up again;
3. demand: served from on-hand stock; the unmet part is backordered (net stock goes negative)
   or lost (``lost_sales``);
4. review and order: at review periods the policy compares the inventory position (net stock +
   everything on order) with its levels and orders; an order placed in period t with lead time L
   is due in period t + L + 1 (L whole periods in transit). So a lead time of L periods covers L
   periods of demand, and an order-up-to level with review period R protects R + L periods.

Reviews happen at the end of periods R-1, 2R-1, ... (R = ``review_period``; base-stock reviews every
period). Statistics are collected over periods ``warmup`` ... ``periods`` - 1.

Definitions of the outputs (per item and replication):
- fill_rate: 1 - units short / units demanded (type 2, "beta"); 1 when nothing was demanded;
- cycle_service_level: share of replenishment cycles without a shortage, a cycle running from the
  period after one order is placed to the period in which the next order is placed (so the
  lead time of an order belongs to its cycle); NaN when no cycle completed;
- mean_on_hand, mean_backorders: average end-of-period on-hand stock and backorder level;
- mean_short: units short per period (backordered or lost);
- stockout_periods: number of periods with any shortage; orders_placed: number of orders;
- mean_demand: demand per period; cycles: completed replenishment cycles;
- mean_order_quantity: average order size (NaN when no order).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit, prange

from bufferwise.kernels.random import (
    GOLDEN,
    STREAM_DEMAND,
    STREAM_LEAD_TIME,
    STREAM_OUTAGE,
    index_nb,
    mix64_nb,
    stream_key_nb,
    uniform_nb,
    uniform_open_nb,
)

POLICY_JIT = 0
POLICY_BASE_STOCK = 1
POLICY_ORDER_UP_TO = 2
POLICY_MIN_MAX = 3
POLICY_REORDER_QUANTITY = 4
POLICY_NAMES = {
    POLICY_JIT: "jit",
    POLICY_BASE_STOCK: "base_stock",
    POLICY_ORDER_UP_TO: "R,S",
    POLICY_MIN_MAX: "s,S",
    POLICY_REORDER_QUANTITY: "r,Q",
}

DEMAND_EMPIRICAL = 0
DEMAND_NORMAL = 1
DEMAND_POISSON = 2
DEMAND_GAMMA = 3
DEMAND_NAMES = {
    DEMAND_EMPIRICAL: "empirical",
    DEMAND_NORMAL: "normal",
    DEMAND_POISSON: "poisson",
    DEMAND_GAMMA: "gamma",
}

METRICS = (
    "fill_rate",
    "cycle_service_level",
    "mean_on_hand",
    "mean_backorders",
    "mean_short",
    "stockout_periods",
    "orders_placed",
    "mean_demand",
    "cycles",
    "mean_order_quantity",
)
N_METRICS = len(METRICS)

POISSON_INVERSION_LIMIT = 30.0
"""Poisson means below this are drawn exactly by inversion; larger ones by the rounded normal."""

ROUNDING_SLACK = 1e-9
_GOLDEN_U = np.uint64(GOLDEN)
_TWO_PI = 2.0 * math.pi


@njit(cache=True, inline="always")
def _normal_nb(state: np.uint64) -> tuple[float, np.uint64]:
    """Standard normal by Box-Muller (cosine branch only): two draws per value."""
    state += _GOLDEN_U
    u1 = uniform_open_nb(mix64_nb(state))
    state += _GOLDEN_U
    u2 = uniform_nb(mix64_nb(state))
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(_TWO_PI * u2), state


@njit(cache=True)
def _gamma_nb(shape: float, state: np.uint64) -> tuple[float, np.uint64]:
    """Gamma(shape, 1) by Marsaglia & Tsang (2000); shape < 1 through the u**(1/shape) boost."""
    boost = 1.0
    if shape < 1.0:
        state += _GOLDEN_U
        boost = uniform_open_nb(mix64_nb(state)) ** (1.0 / shape)
        shape += 1.0
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        x, state = _normal_nb(state)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        state += _GOLDEN_U
        u = uniform_open_nb(mix64_nb(state))
        if math.log(u) < 0.5 * x * x + d - d * v + d * math.log(v):
            return d * v * boost, state


@njit(cache=True, inline="always")
def _demand_nb(
    kind: int,
    mean: float,
    sd: float,
    pool: np.ndarray,
    pool_len: int,
    state: np.uint64,
) -> tuple[float, np.uint64]:
    """One period's demand for one item."""
    if kind == DEMAND_EMPIRICAL:
        state += _GOLDEN_U
        return pool[index_nb(mix64_nb(state), pool_len)], state
    if kind == DEMAND_NORMAL:
        z, state = _normal_nb(state)
        value = mean + sd * z
        return (value if value > 0.0 else 0.0), state
    if kind == DEMAND_POISSON:
        if mean < POISSON_INVERSION_LIMIT:
            state += _GOLDEN_U
            u = uniform_nb(mix64_nb(state))
            k = 0
            p = math.exp(-mean)
            cdf = p
            while u > cdf and k < 100000:
                k += 1
                p = p * mean / k
                cdf += p
            return float(k), state
        z, state = _normal_nb(state)
        value = math.floor(mean + math.sqrt(mean) * z + 0.5)
        return (value if value > 0.0 else 0.0), state
    # gamma with the given mean and sd
    if mean <= 0.0:
        return 0.0, state
    if sd <= 0.0:
        return mean, state
    shape = (mean / sd) * (mean / sd)
    g, state = _gamma_nb(shape, state)
    return g * (sd * sd / mean), state


@njit(cache=True, inline="always")
def _round_order_nb(quantity: float, moq: float, multiple: float) -> float:
    """Apply the minimum order quantity, then round up to the order multiple."""
    if quantity < moq:
        quantity = moq
    if multiple > 0.0:
        quantity = np.ceil(quantity / multiple - ROUNDING_SLACK) * multiple
    return quantity


@njit(cache=True)
def _simulate_item_nb(
    item: int,
    out: np.ndarray,
    arrivals: np.ndarray,
    policy: int,
    reorder_level: float,
    target_level: float,
    review_period: int,
    moq: float,
    multiple: float,
    demand_kind: int,
    demand_mean: float,
    demand_sd: float,
    demand_pool: np.ndarray,
    demand_pool_len: int,
    lead_time_pool: np.ndarray,
    lead_time_pool_len: int,
    outage_start_prob: float,
    outage_recovery_prob: float,
    outage_length_pool: np.ndarray,
    outage_length_pool_len: int,
    initial_net: float,
    periods: int,
    warmup: int,
    replications: int,
    lost_sales: bool,
    seed: np.uint64,
) -> None:
    ring = arrivals.shape[0]
    if policy == POLICY_BASE_STOCK:
        review_period = 1
    counted = periods - warmup
    for rep in range(replications):
        for j in range(ring):
            arrivals[j] = 0.0
        demand_state = stream_key_nb(seed, item, rep, STREAM_DEMAND)
        lead_state = stream_key_nb(seed, item, rep, STREAM_LEAD_TIME)
        outage_state = stream_key_nb(seed, item, rep, STREAM_OUTAGE)
        net = initial_net
        on_order = 0.0
        waiting = 0.0
        up = True
        down_left = 0
        used = 0.0
        slot = 0
        countdown = review_period
        sum_demand = 0.0
        sum_short = 0.0
        sum_on_hand = 0.0
        sum_backorders = 0.0
        sum_ordered = 0.0
        stockouts = 0
        orders = 0
        cycles = 0
        cycles_ok = 0
        cycle_open = False
        cycle_short = False
        for t in range(periods):
            # 1. supplier state
            if up:
                if outage_start_prob > 0.0:
                    outage_state += _GOLDEN_U
                    if uniform_nb(mix64_nb(outage_state)) < outage_start_prob:
                        up = False
                        if outage_length_pool_len > 0:
                            outage_state += _GOLDEN_U
                            down_left = outage_length_pool[
                                index_nb(mix64_nb(outage_state), outage_length_pool_len)
                            ]
                            if down_left <= 0:
                                up = True
            elif outage_length_pool_len > 0:
                down_left -= 1
                if down_left <= 0:
                    up = True
            else:
                outage_state += _GOLDEN_U
                if uniform_nb(mix64_nb(outage_state)) < outage_recovery_prob:
                    up = True
            # 2. receive
            waiting += arrivals[slot]
            arrivals[slot] = 0.0
            if up and waiting > 0.0:
                net += waiting
                on_order -= waiting
                waiting = 0.0
            # 3. demand
            demand, demand_state = _demand_nb(
                demand_kind, demand_mean, demand_sd, demand_pool, demand_pool_len, demand_state
            )
            available = net if net > 0.0 else 0.0
            short = demand - available if demand > available else 0.0
            if lost_sales:
                net -= demand - short
            else:
                net -= demand
            used += demand
            counting = t >= warmup
            if counting:
                sum_demand += demand
                sum_short += short
                if short > 0.0:
                    stockouts += 1
                    cycle_short = True
            # 4. review and order
            countdown -= 1
            if countdown == 0:
                countdown = review_period
                position = net + on_order
                quantity = 0.0
                if policy == POLICY_JIT:
                    quantity = used
                elif policy in (POLICY_BASE_STOCK, POLICY_ORDER_UP_TO):
                    if position < target_level:
                        quantity = target_level - position
                elif policy == POLICY_MIN_MAX:
                    if position <= reorder_level:
                        quantity = target_level - position
                elif position <= reorder_level:
                    quantity = (np.floor((reorder_level - position) / target_level) + 1.0) * (
                        target_level
                    )
                used = 0.0
                if quantity > 0.0:
                    quantity = _round_order_nb(quantity, moq, multiple)
                    lead_state += _GOLDEN_U
                    lead = lead_time_pool[index_nb(mix64_nb(lead_state), lead_time_pool_len)]
                    due = slot + lead + 1
                    if due >= ring:
                        due -= ring
                    arrivals[due] += quantity
                    on_order += quantity
                    if counting:
                        orders += 1
                        sum_ordered += quantity
                        if cycle_open:
                            cycles += 1
                            if not cycle_short:
                                cycles_ok += 1
                        cycle_open = True
                        cycle_short = False
            if counting:
                if net > 0.0:
                    sum_on_hand += net
                else:
                    sum_backorders -= net
            slot += 1
            if slot == ring:
                slot = 0
        out[0, item, rep] = 1.0 - sum_short / sum_demand if sum_demand > 0.0 else 1.0
        out[1, item, rep] = cycles_ok / cycles if cycles > 0 else np.nan
        out[2, item, rep] = sum_on_hand / counted
        out[3, item, rep] = sum_backorders / counted
        out[4, item, rep] = sum_short / counted
        out[5, item, rep] = stockouts
        out[6, item, rep] = orders
        out[7, item, rep] = sum_demand / counted
        out[8, item, rep] = cycles
        out[9, item, rep] = sum_ordered / orders if orders > 0 else np.nan


@njit(parallel=True, cache=True)
def simulate_policy_kernel(
    policy: np.ndarray,
    reorder_level: np.ndarray,
    target_level: np.ndarray,
    review_period: np.ndarray,
    moq: np.ndarray,
    order_multiple: np.ndarray,
    demand_kind: np.ndarray,
    demand_mean: np.ndarray,
    demand_sd: np.ndarray,
    demand_pool: np.ndarray,
    demand_pool_len: np.ndarray,
    lead_time_pool: np.ndarray,
    lead_time_pool_start: np.ndarray,
    lead_time_pool_len: np.ndarray,
    outage_start_prob: np.ndarray,
    outage_recovery_prob: np.ndarray,
    outage_length_pool: np.ndarray,
    outage_length_pool_len: np.ndarray,
    initial_net: np.ndarray,
    periods: int,
    warmup: int,
    replications: int,
    lost_sales: bool,
    seed: np.uint64,
    ring: int,
) -> np.ndarray:
    """Simulate every item; returns f8[N_METRICS, n_items, replications] (order of ``METRICS``).

    Arrays, one row per item (n items): policy i1, reorder_level f8 (s or r), target_level f8
    (S, or Q for (r,Q), or the starting stock for JIT), review_period i8 (periods), moq f8,
    order_multiple f8 (0 = none), demand_kind i1, demand_mean f8, demand_sd f8, demand_pool
    f8[n, m] with demand_pool_len i8, lead_time_pool i8[total] (periods; ragged: item i's pool is
    lead_time_pool[lead_time_pool_start[i] : lead_time_pool_start[i] + lead_time_pool_len[i]])
    with lead_time_pool_start i8 and lead_time_pool_len i8, outage_start_prob f8,
    outage_recovery_prob f8, outage_length_pool i8[n, j] with outage_length_pool_len i8,
    initial_net f8. ``ring`` must exceed the largest lead time + 1.
    """
    n = policy.shape[0]
    out = np.empty((N_METRICS, n, replications))
    for i in prange(n):
        arrivals = np.zeros(ring)
        first = lead_time_pool_start[i]  # item i's lead times: a slice of the ragged pool
        _simulate_item_nb(
            i,
            out,
            arrivals,
            policy[i],
            reorder_level[i],
            target_level[i],
            review_period[i],
            moq[i],
            order_multiple[i],
            demand_kind[i],
            demand_mean[i],
            demand_sd[i],
            demand_pool[i],
            demand_pool_len[i],
            lead_time_pool[first : first + lead_time_pool_len[i]],
            lead_time_pool_len[i],
            outage_start_prob[i],
            outage_recovery_prob[i],
            outage_length_pool[i],
            outage_length_pool_len[i],
            initial_net[i],
            periods,
            warmup,
            replications,
            lost_sales,
            seed,
        )
    return out


@njit(cache=True)
def _simulate_item_levels_nb(
    item: int,
    stream: int,
    out: np.ndarray,
    arrivals: np.ndarray,
    net: np.ndarray,
    on_order: np.ndarray,
    waiting: np.ndarray,
    lead_state: np.ndarray,
    acc: np.ndarray,
    counters: np.ndarray,
    policy: int,
    reorder_level: np.ndarray,
    target_level: np.ndarray,
    review_period: int,
    moq: float,
    multiple: float,
    demand_kind: int,
    demand_mean: float,
    demand_sd: float,
    demand_pool: np.ndarray,
    demand_pool_len: int,
    lead_time_pool: np.ndarray,
    lead_time_pool_len: int,
    outage_start_prob: float,
    outage_recovery_prob: float,
    outage_length_pool: np.ndarray,
    outage_length_pool_len: int,
    initial_net: np.ndarray,
    periods: int,
    warmup: int,
    replications: int,
    lost_sales: bool,
    seed: np.uint64,
) -> None:
    """`_simulate_item_nb` for K levels of one item at once (arrays [K] / [ring, K] of state).

    The supplier state and the demand depend on the period and the draws only, never on the
    stock, so they are drawn once per period and shared by every level; each level keeps its
    own stock, orders and lead-time stream (a level draws its n-th lead time for its n-th
    order, as it does alone). Every level's figures are therefore those of a call of
    `_simulate_item_nb` with that level, bit for bit, for a fraction of the draws. `item` is
    the output row, `stream` the random streams' item number (the row in a full call)."""
    levels = net.shape[0]
    ring = arrivals.shape[0]
    if policy == POLICY_BASE_STOCK:
        review_period = 1
    counted = periods - warmup
    for rep in range(replications):
        demand_state = stream_key_nb(seed, stream, rep, STREAM_DEMAND)
        outage_state = stream_key_nb(seed, stream, rep, STREAM_OUTAGE)
        lead_key = stream_key_nb(seed, stream, rep, STREAM_LEAD_TIME)
        for j in range(ring):
            for k in range(levels):
                arrivals[j, k] = 0.0
        # the demand since the last review and the demand counted are the same for every
        # level (demand and review periods are shared): kept once
        used_all = 0.0
        sum_demand_all = 0.0
        for k in range(levels):
            net[k] = initial_net[k]
            on_order[k] = 0.0
            waiting[k] = 0.0
            lead_state[k] = lead_key
            for j in range(acc.shape[1]):
                acc[k, j] = 0.0
            for j in range(counters.shape[1]):
                counters[k, j] = 0
        up = True
        down_left = 0
        slot = 0
        countdown = review_period
        for t in range(periods):
            # 1. supplier state (shared)
            if up:
                if outage_start_prob > 0.0:
                    outage_state += _GOLDEN_U
                    if uniform_nb(mix64_nb(outage_state)) < outage_start_prob:
                        up = False
                        if outage_length_pool_len > 0:
                            outage_state += _GOLDEN_U
                            down_left = outage_length_pool[
                                index_nb(mix64_nb(outage_state), outage_length_pool_len)
                            ]
                            if down_left <= 0:
                                up = True
            elif outage_length_pool_len > 0:
                down_left -= 1
                if down_left <= 0:
                    up = True
            else:
                outage_state += _GOLDEN_U
                if uniform_nb(mix64_nb(outage_state)) < outage_recovery_prob:
                    up = True
            # 3. demand (shared draw)
            demand, demand_state = _demand_nb(
                demand_kind, demand_mean, demand_sd, demand_pool, demand_pool_len, demand_state
            )
            counting = t >= warmup
            countdown -= 1
            review = countdown == 0
            if review:
                countdown = review_period
            used_all += demand
            if counting:
                sum_demand_all += demand
            for k in range(levels):
                # 2. receive
                waiting[k] += arrivals[slot, k]
                arrivals[slot, k] = 0.0
                if up and waiting[k] > 0.0:
                    net[k] += waiting[k]
                    on_order[k] -= waiting[k]
                    waiting[k] = 0.0
                # 3. demand
                available = net[k] if net[k] > 0.0 else 0.0
                short = demand - available if demand > available else 0.0
                if lost_sales:
                    net[k] -= demand - short
                else:
                    net[k] -= demand
                if counting:
                    acc[k, 1] += short
                    if short > 0.0:
                        counters[k, 0] += 1
                        counters[k, 5] = 1
                # 4. review and order
                if review:
                    position = net[k] + on_order[k]
                    quantity = 0.0
                    low = reorder_level[k]
                    high = target_level[k]
                    if policy == POLICY_JIT:
                        quantity = used_all
                    elif policy in (POLICY_BASE_STOCK, POLICY_ORDER_UP_TO):
                        if position < high:
                            quantity = high - position
                    elif policy == POLICY_MIN_MAX:
                        if position <= low:
                            quantity = high - position
                    elif position <= low:
                        quantity = (np.floor((low - position) / high) + 1.0) * (high)
                    if quantity > 0.0:
                        quantity = _round_order_nb(quantity, moq, multiple)
                        lead_state[k] += _GOLDEN_U
                        lead = lead_time_pool[index_nb(mix64_nb(lead_state[k]), lead_time_pool_len)]
                        due = slot + lead + 1
                        if due >= ring:
                            due -= ring
                        arrivals[due, k] += quantity
                        on_order[k] += quantity
                        if counting:
                            counters[k, 1] += 1
                            acc[k, 4] += quantity
                            if counters[k, 4] == 1:
                                counters[k, 2] += 1
                                if counters[k, 5] == 0:
                                    counters[k, 3] += 1
                            counters[k, 4] = 1
                            counters[k, 5] = 0
                if counting:
                    if net[k] > 0.0:
                        acc[k, 2] += net[k]
                    else:
                        acc[k, 3] -= net[k]
            if review:
                used_all = 0.0
            slot += 1
            if slot == ring:
                slot = 0
        for k in range(levels):
            sum_demand = sum_demand_all
            sum_short = acc[k, 1]
            orders = counters[k, 1]
            cycles = counters[k, 2]
            out[0, item, k, rep] = 1.0 - sum_short / sum_demand if sum_demand > 0.0 else 1.0
            out[1, item, k, rep] = counters[k, 3] / cycles if cycles > 0 else np.nan
            out[2, item, k, rep] = acc[k, 2] / counted
            out[3, item, k, rep] = acc[k, 3] / counted
            out[4, item, k, rep] = sum_short / counted
            out[5, item, k, rep] = counters[k, 0]
            out[6, item, k, rep] = orders
            out[7, item, k, rep] = sum_demand / counted
            out[8, item, k, rep] = cycles
            out[9, item, k, rep] = acc[k, 4] / orders if orders > 0 else np.nan


@njit(parallel=True, cache=True)
def simulate_levels_kernel(
    policy: np.ndarray,
    reorder_level: np.ndarray,
    target_level: np.ndarray,
    review_period: np.ndarray,
    moq: np.ndarray,
    order_multiple: np.ndarray,
    demand_kind: np.ndarray,
    demand_mean: np.ndarray,
    demand_sd: np.ndarray,
    demand_pool: np.ndarray,
    demand_pool_len: np.ndarray,
    lead_time_pool: np.ndarray,
    lead_time_pool_start: np.ndarray,
    lead_time_pool_len: np.ndarray,
    outage_start_prob: np.ndarray,
    outage_recovery_prob: np.ndarray,
    outage_length_pool: np.ndarray,
    outage_length_pool_len: np.ndarray,
    initial_net: np.ndarray,
    periods: int,
    warmup: int,
    replications: int,
    lost_sales: bool,
    seed: np.uint64,
    ring: int,
    streams: np.ndarray,
) -> np.ndarray:
    """`simulate_policy_kernel` at K levels per item in one pass over the draws; returns
    f8[N_METRICS, n_items, K, replications]. `streams` (i8[n]) numbers each row's random
    streams: row i draws what row streams[i] of a full call draws (np.arange(n): the plain
    call), so a subset of items can be simulated with the draws it gets in the whole set.

    reorder_level, target_level and initial_net are f8[n, K] (level k of every item in column
    k); the other arguments are those of `simulate_policy_kernel`. Column k of the result is,
    bit for bit, `simulate_policy_kernel` called with column k of the levels: the supplier
    states and the demands are common to all levels (common random numbers) and drawn once."""
    n = policy.shape[0]
    levels = reorder_level.shape[1]
    out = np.empty((N_METRICS, n, levels, replications))
    for i in prange(n):
        # a ring just longer than the item's own longest lead time (any ring > lead + 1 gives
        # the same arrivals): [ring, K] stays small and every level's slot is adjacent
        longest = 0
        first = lead_time_pool_start[i]
        for j in range(first, first + lead_time_pool_len[i]):
            if lead_time_pool[j] > longest:
                longest = lead_time_pool[j]
        _simulate_item_levels_nb(
            i,
            streams[i],
            out,
            np.zeros((min(ring, longest + 2), levels)),
            np.zeros(levels),
            np.zeros(levels),
            np.zeros(levels),
            np.zeros(levels, dtype=np.uint64),
            np.zeros((levels, 5)),
            np.zeros((levels, 6), dtype=np.int64),
            policy[i],
            reorder_level[i],
            target_level[i],
            review_period[i],
            moq[i],
            order_multiple[i],
            demand_kind[i],
            demand_mean[i],
            demand_sd[i],
            demand_pool[i],
            demand_pool_len[i],
            lead_time_pool[first : first + lead_time_pool_len[i]],
            lead_time_pool_len[i],
            outage_start_prob[i],
            outage_recovery_prob[i],
            outage_length_pool[i],
            outage_length_pool_len[i],
            initial_net[i],
            periods,
            warmup,
            replications,
            lost_sales,
            seed,
        )
    return out


# ---------------------------------------------------------------- validated entry point


def resolve_seed(seed: int | np.random.Generator | None) -> int:
    """A 64-bit kernel seed from an int, a NumPy Generator (one draw taken) or None (fresh)."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63 - 1))
    if seed is None:
        return int(np.random.default_rng().integers(0, 2**63 - 1))
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an int, a numpy Generator or None, got {seed!r}")
    return int(seed) & ((1 << 64) - 1)


def _check_whole(values: np.ndarray, name: str, dtype: type) -> None:
    if np.issubdtype(dtype, np.integer) and np.any(values != np.round(values)):
        raise ValueError(f"{name}: values must be whole periods (round them first)")


class Pieces(list[np.ndarray]):
    """A list of 1-D arrays that are the adjacent pieces of one array, `whole`, in order:
    piece i is whole[starts[i] : starts[i] + lengths[i]]. Every consumer indexes it as a list;
    the packers (`pack_pools`, `pack_ragged`) and `gather` take `whole` instead of
    concatenating the pieces again. Changed after it was made (a piece replaced or added), it
    is packed like any list."""

    def __init__(self, whole: np.ndarray, lengths: np.ndarray) -> None:
        self.whole = whole
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.starts = np.cumsum(self.lengths) - self.lengths
        pieces = np.split(whole, np.cumsum(self.lengths)[:-1]) if len(self.lengths) else []
        super().__init__(pieces)
        self._pieces = tuple(pieces)

    def intact(self) -> bool:
        """Still exactly the pieces it was made of."""
        return len(self) == len(self._pieces) and all(
            a is b for a, b in zip(self, self._pieces, strict=True)
        )

    def gather(self, members: np.ndarray, size: int) -> np.ndarray:
        """The pieces at `members` (each `size` long), stacked [members, size]: one indexing of
        `whole` instead of a list of pieces concatenated."""
        if (
            len(members) == len(self)
            and size * len(members) == self.whole.size
            and np.array_equal(members, np.arange(len(self)))
        ):
            return self.whole.reshape(len(members), size)  # all of them: a view
        at = self.starts[members][:, None] + np.arange(size)
        return self.whole[at]


def pack_pools(
    pools: np.ndarray | Sequence[np.ndarray] | Sequence[Sequence[float]],
    n_items: int,
    name: str,
    dtype: type,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of samples (a 2-D array, or one 1-D array per item / one shared) -> (pool, lengths).

    A 2-D float array may pad short rows with NaN; lengths count the leading non-NaN values.
    """
    if isinstance(pools, np.ndarray) and pools.ndim == 2:
        arr = np.asarray(pools, dtype=float)
        if arr.shape[0] == 1 and n_items > 1:
            arr = np.repeat(arr, n_items, axis=0)
        if arr.shape[0] != n_items:
            raise ValueError(f"{name}: {arr.shape[0]} rows for {n_items} items")
        finite = np.isfinite(arr)
        lengths = finite.sum(axis=1).astype(np.int64)
        if not np.array_equal(finite, np.arange(arr.shape[1]) < lengths[:, None]):
            raise ValueError(f"{name}: NaN padding must only come after the values of a row")
        filled_float = np.where(finite, arr, 0.0)
        _check_whole(filled_float, name, dtype)
        filled: np.ndarray = filled_float.astype(dtype)
        return np.ascontiguousarray(filled), lengths
    rows = [pools] if isinstance(pools, np.ndarray) else list(pools)
    if len(rows) == 1 and n_items > 1:
        rows = rows * n_items
    if len(rows) != n_items:
        raise ValueError(f"{name}: {len(rows)} rows for {n_items} items")
    whole = (
        pools.whole
        if isinstance(pools, Pieces) and len(pools) == n_items and pools.intact()
        else None
    )
    arrays: list[np.ndarray] = (
        [np.asarray(r, dtype=float).ravel() for r in rows]
        if whole is None
        else [np.asarray(r) for r in rows]
    )
    lengths = np.fromiter((a.size for a in arrays), dtype=np.int64, count=n_items)
    width = max(1, int(lengths.max(initial=0)))
    packed: np.ndarray = np.zeros((n_items, width), dtype=dtype)
    if lengths.sum() == 0:
        return packed, lengths
    # all rows checked and scattered at once; the first offending item (in item order, a
    # non-finite value before a fractional one within an item) is the one named
    flat = np.concatenate(arrays) if whole is None else np.asarray(whole, dtype=float)
    _check_rows(flat, lengths, name, dtype)
    ends = np.cumsum(lengths)
    if flat.size == n_items * width:  # every row full: one reshape, no scatter, no copy
        return np.ascontiguousarray(flat.reshape(n_items, width).astype(dtype, copy=False)), lengths
    _scatter_rows(flat.astype(dtype, copy=False), ends - lengths, lengths, packed)
    return packed, lengths


def pack_ragged(
    pools: np.ndarray | Sequence[np.ndarray] | Sequence[Sequence[float]],
    n_items: int,
    name: str,
    dtype: type,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`pack_pools` without the padding: -> (values, starts, lengths), item i's samples being
    values[starts[i] : starts[i] + lengths[i]] (same inputs, same checks, same messages).

    The rows' values are concatenated in item order; a single shared row (one 1-D array, or a
    2-D array of one row, for several items) is stored once with every start 0."""
    if isinstance(pools, np.ndarray) and pools.ndim == 2:
        arr = np.asarray(pools, dtype=float)
        shared = arr.shape[0] == 1 and n_items > 1
        if not shared and arr.shape[0] != n_items:
            raise ValueError(f"{name}: {arr.shape[0]} rows for {n_items} items")
        finite = np.isfinite(arr)
        lengths = finite.sum(axis=1).astype(np.int64)
        if not np.array_equal(finite, np.arange(arr.shape[1]) < lengths[:, None]):
            raise ValueError(f"{name}: NaN padding must only come after the values of a row")
        values = arr[finite]  # row by row: the rows' leading values in item order
        _check_whole(values, name, dtype)
        flat: np.ndarray = np.ascontiguousarray(values.astype(dtype))
    else:
        rows = [pools] if isinstance(pools, np.ndarray) else list(pools)
        shared = len(rows) == 1 and n_items > 1
        if not shared and len(rows) != n_items:
            raise ValueError(f"{name}: {len(rows)} rows for {n_items} items")
        arrays = [np.asarray(r) for r in rows]
        lengths = np.fromiter((a.size for a in arrays), dtype=np.int64, count=len(arrays))
        if (
            np.issubdtype(dtype, np.integer)
            and isinstance(pools, Pieces)
            and not shared
            and pools.whole.dtype.kind == "i"
            and pools.intact()
        ):
            # the pieces of one array of whole numbers: that array, not a copy of it
            flat = pools.whole.astype(dtype, copy=False)
        elif np.issubdtype(dtype, np.integer) and all(a.dtype.kind == "i" for a in arrays):
            # signed integers are finite whole numbers already: one concatenation, no floats
            flat = np.concatenate([a.ravel() for a in arrays]).astype(dtype, copy=False)
        else:
            floats = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays])
            _check_rows(floats, lengths, name, dtype)
            flat = floats.astype(dtype)
        flat = np.ascontiguousarray(flat)
    if shared:
        return flat, np.zeros(n_items, dtype=np.int64), np.full(n_items, lengths[0], np.int64)
    return flat, np.cumsum(lengths) - lengths, lengths


def _check_rows(flat: np.ndarray, lengths: np.ndarray, name: str, dtype: type) -> None:
    """The checks of concatenated rows (`pack_pools`, `pack_ragged`): the first offending item
    (in item order, a non-finite value before a fractional one within an item) is named."""
    nonfinite = ~np.isfinite(flat)
    fractional = np.zeros(flat.size, dtype=bool)
    if np.issubdtype(dtype, np.integer):
        fractional = ~nonfinite & (flat != np.round(flat))
    if nonfinite.any() or fractional.any():
        ends = np.cumsum(lengths)
        first_bad = int(np.argmax(nonfinite)) if nonfinite.any() else flat.size
        first_frac = int(np.argmax(fractional)) if fractional.any() else flat.size
        item_bad = int(np.searchsorted(ends, first_bad, side="right"))
        item_frac = int(np.searchsorted(ends, first_frac, side="right"))
        if item_bad <= item_frac:
            raise ValueError(f"{name}: item {item_bad} has a NaN or infinite value")
        _check_whole(flat[first_frac : first_frac + 1], name, dtype)


@njit(cache=True)
def _scatter_rows(
    flat: np.ndarray, starts: np.ndarray, lengths: np.ndarray, packed: np.ndarray
) -> None:  # pragma: no cover - compiled
    """packed[i, :lengths[i]] = flat[starts[i] : starts[i] + lengths[i]] for every row i."""
    for i in range(lengths.size):
        lo = starts[i]
        for j in range(lengths[i]):
            packed[i, j] = flat[lo + j]


@dataclass(frozen=True)
class SimulationResult:
    """Per-item figures of a simulation.

    mean[metric]            f8[n]  average over replications (NaN-aware for cycle service)
    standard_error[metric]  f8[n]  standard deviation across replications / sqrt(replications)
                                   (NaN with one replication)
    per_replication[metric] f8[n, replications]
    """

    mean: dict[str, np.ndarray]
    standard_error: dict[str, np.ndarray]
    per_replication: dict[str, np.ndarray]
    periods: int
    warmup: int
    replications: int

    def confidence_interval(
        self, metric: str, level: float = 0.95
    ) -> tuple[np.ndarray, np.ndarray]:
        """Normal-theory interval mean +- z * standard error over independent replications."""
        from statistics import NormalDist

        z = NormalDist().inv_cdf(0.5 + level / 2.0)
        m, se = self.mean[metric], self.standard_error[metric]
        return m - z * se, m + z * se


def summarise(raw: np.ndarray, periods: int, warmup: int) -> SimulationResult:
    """Kernel output f8[N_METRICS, n, replications] -> SimulationResult."""
    reps = raw.shape[2]
    mean: dict[str, np.ndarray] = {}
    se: dict[str, np.ndarray] = {}
    per: dict[str, np.ndarray] = {}
    for k, name in enumerate(METRICS):
        values = raw[k]
        per[name] = values
        valid = np.isfinite(values)
        count = valid.sum(axis=1)
        total = np.where(valid, values, 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = np.where(count > 0, total / np.maximum(count, 1), np.nan)
            dev = np.where(valid, values - m[:, None], 0.0)
            var = (dev * dev).sum(axis=1) / np.maximum(count - 1, 1)
            s = np.where(count > 1, np.sqrt(var / np.maximum(count, 1)), np.nan)
        mean[name] = m
        se[name] = s
    return SimulationResult(mean, se, per, periods, warmup, reps)


def _column(value: object, n: int, name: str, dtype: type) -> np.ndarray:
    arr: np.ndarray = np.asarray(value, dtype=dtype)
    if arr.ndim == 0:
        arr = np.full(n, arr, dtype=dtype)
    if arr.shape != (n,):
        raise ValueError(f"{name}: expected a scalar or {n} values, got shape {arr.shape}")
    return np.ascontiguousarray(arr)


@dataclass(frozen=True)
class SimulationInputs:
    """Validated, contiguous kernel inputs for n items (everything except the policy levels).

    The lead-time pools are ragged: item i's lead times [periods] are
    lead_time_pool[lead_time_pool_start[i] : lead_time_pool_start[i] + lead_time_pool_len[i]]
    (one flat i8 array; items may share values). The demand and outage-length pools are dense
    [n, width] rows with their lengths."""

    policy: np.ndarray
    review_period: np.ndarray
    moq: np.ndarray
    order_multiple: np.ndarray
    demand_kind: np.ndarray
    demand_mean: np.ndarray
    demand_sd: np.ndarray
    demand_pool: np.ndarray
    demand_pool_len: np.ndarray
    lead_time_pool: np.ndarray
    lead_time_pool_start: np.ndarray
    lead_time_pool_len: np.ndarray
    outage_start_prob: np.ndarray
    outage_recovery_prob: np.ndarray
    outage_length_pool: np.ndarray
    outage_length_pool_len: np.ndarray
    ring: int

    @property
    def n_items(self) -> int:
        return int(self.policy.shape[0])


def take_rows(inputs: SimulationInputs, rows: np.ndarray) -> SimulationInputs:
    """The inputs of the items at `rows` (in that order); pair with `streams=rows` in
    `run_simulation_levels` to give them the draws they get in the whole set."""
    idx = np.asarray(rows, dtype=np.int64)
    ragged = ("lead_time_pool", "lead_time_pool_start")
    per_item = {
        f: np.ascontiguousarray(getattr(inputs, f)[idx])
        for f in SimulationInputs.__dataclass_fields__
        if f != "ring" and f not in ragged
    }
    lengths = per_item["lead_time_pool_len"]
    old = inputs.lead_time_pool_start[idx]
    if old.size and np.all(old == old[0]) and np.all(lengths == lengths[0]):
        # one shared pool (or one item): kept once
        pool = inputs.lead_time_pool[old[0] : old[0] + lengths[0]].copy()
        starts = np.zeros(idx.size, dtype=np.int64)
    else:
        # the rows' values gathered in the given order: value j of the result comes from
        # old start + (j - new start) of its item
        starts = np.cumsum(lengths) - lengths
        gather = np.repeat(old - starts, lengths) + np.arange(int(lengths.sum()))
        pool = inputs.lead_time_pool[gather]
    return SimulationInputs(
        **per_item, lead_time_pool=pool, lead_time_pool_start=starts, ring=inputs.ring
    )


def prepare_inputs(
    n_items: int,
    *,
    policy: int | np.ndarray,
    lead_time_pool: np.ndarray | list[np.ndarray],
    demand_pool: np.ndarray | list[np.ndarray] | None = None,
    demand_kind: int | np.ndarray = DEMAND_EMPIRICAL,
    demand_mean: float | np.ndarray = 0.0,
    demand_sd: float | np.ndarray = 0.0,
    review_period: int | np.ndarray = 1,
    moq: float | np.ndarray = 0.0,
    order_multiple: float | np.ndarray = 0.0,
    outage_start_prob: float | np.ndarray = 0.0,
    outage_recovery_prob: float | np.ndarray = 1.0,
    outage_length_pool: np.ndarray | list[np.ndarray] | None = None,
) -> SimulationInputs:
    """Validate and pack kernel inputs once (ValueError names the offending argument)."""
    n = int(n_items)
    if n < 1:
        raise ValueError("n_items must be at least 1")
    pol = _column(policy, n, "policy", np.int8)
    if np.any((pol < POLICY_JIT) | (pol > POLICY_REORDER_QUANTITY)):
        raise ValueError(f"policy codes must be in 0..4 ({POLICY_NAMES})")
    kind = _column(demand_kind, n, "demand_kind", np.int8)
    if np.any((kind < DEMAND_EMPIRICAL) | (kind > DEMAND_GAMMA)):
        raise ValueError(f"demand_kind codes must be in 0..3 ({DEMAND_NAMES})")
    dmean = _column(demand_mean, n, "demand_mean", np.float64)
    dsd = _column(demand_sd, n, "demand_sd", np.float64)
    if np.any(~np.isfinite(dmean) | (dmean < 0)) or np.any(~np.isfinite(dsd) | (dsd < 0)):
        raise ValueError("demand_mean and demand_sd must be finite and >= 0")
    if demand_pool is None:
        if np.any(kind == DEMAND_EMPIRICAL):
            raise ValueError("demand_pool is required for items with empirical demand")
        dpool, dlen = np.zeros((n, 1)), np.zeros(n, dtype=np.int64)
    else:
        dpool, dlen = pack_pools(demand_pool, n, "demand_pool", np.float64)
    if np.any((kind == DEMAND_EMPIRICAL) & (dlen < 1)):
        raise ValueError("demand_pool: every item with empirical demand needs at least one value")
    if np.any(dpool < 0):
        raise ValueError("demand_pool: demand must be >= 0")
    lpool, lstart, llen = pack_ragged(lead_time_pool, n, "lead_time_pool", np.int64)
    if np.any(llen < 1):
        raise ValueError("lead_time_pool: every item needs at least one lead time (periods)")
    if np.any(lpool < 0):
        raise ValueError("lead_time_pool: lead times must be >= 0 periods")
    rp = _column(review_period, n, "review_period", np.int64)
    if np.any(rp < 1):
        raise ValueError("review_period must be >= 1 period")
    moq_a = _column(moq, n, "moq", np.float64)
    mult = _column(order_multiple, n, "order_multiple", np.float64)
    if np.any(moq_a < 0) or np.any(mult < 0):
        raise ValueError("moq and order_multiple must be >= 0")
    start = _column(outage_start_prob, n, "outage_start_prob", np.float64)
    recover = _column(outage_recovery_prob, n, "outage_recovery_prob", np.float64)
    if np.any((start < 0) | (start > 1)) or np.any((recover < 0) | (recover > 1)):
        raise ValueError("outage probabilities must lie in [0, 1]")
    if outage_length_pool is None:
        opool, olen = np.zeros((n, 1), dtype=np.int64), np.zeros(n, dtype=np.int64)
    else:
        opool, olen = pack_pools(outage_length_pool, n, "outage_length_pool", np.int64)
        if np.any(opool < 0):
            raise ValueError("outage_length_pool: lengths must be >= 0 periods")
    if np.any((start > 0) & (olen == 0) & (recover <= 0)):
        raise ValueError("outage_recovery_prob must be > 0 when outages can start")
    ring = int(lpool.max(initial=0)) + 2
    return SimulationInputs(
        pol,
        rp,
        moq_a,
        mult,
        kind,
        dmean,
        dsd,
        dpool,
        dlen,
        lpool,
        lstart,
        llen,
        start,
        recover,
        opool,
        olen,
        ring,
    )


def _check_levels(inputs: SimulationInputs, low: np.ndarray, high: np.ndarray) -> None:
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
        raise ValueError("reorder_level and target_level must be finite")
    rq = inputs.policy == POLICY_REORDER_QUANTITY
    if np.any(rq & (high <= 0)):
        raise ValueError("target_level is the order quantity Q for (r,Q) items and must be > 0")
    if np.any((inputs.policy == POLICY_MIN_MAX) & (high < low)):
        raise ValueError("(s,S) items need S >= s")


def _check_run(periods: int, warmup: int, replications: int) -> None:
    if periods < 1 or warmup < 0 or warmup >= periods:
        raise ValueError("need periods >= 1 and 0 <= warmup < periods")
    if replications < 1:
        raise ValueError("replications must be >= 1")


def kernel_arguments(
    inputs: SimulationInputs,
    low: np.ndarray,
    high: np.ndarray,
    start: np.ndarray,
    periods: int,
    warmup: int,
    replications: int,
    lost_sales: bool,
) -> tuple[Any, ...]:
    """The positional arguments of `simulate_policy_kernel` / `simulate_levels_kernel` (and of
    `reference.simulate_policy_reference`) up to `lost_sales`; the caller appends the seed and
    `inputs.ring`. One place that knows the kernels' argument order."""
    return (
        inputs.policy,
        low,
        high,
        inputs.review_period,
        inputs.moq,
        inputs.order_multiple,
        inputs.demand_kind,
        inputs.demand_mean,
        inputs.demand_sd,
        inputs.demand_pool,
        inputs.demand_pool_len,
        inputs.lead_time_pool,
        inputs.lead_time_pool_start,
        inputs.lead_time_pool_len,
        inputs.outage_start_prob,
        inputs.outage_recovery_prob,
        inputs.outage_length_pool,
        inputs.outage_length_pool_len,
        start,
        int(periods),
        int(warmup),
        int(replications),
        bool(lost_sales),
    )


def run_simulation(
    inputs: SimulationInputs,
    reorder_level: float | np.ndarray,
    target_level: float | np.ndarray,
    *,
    periods: int,
    replications: int = 1,
    warmup: int = 0,
    lost_sales: bool = False,
    seed: int | np.random.Generator | None = None,
    initial_net: float | np.ndarray | None = None,
) -> SimulationResult:
    """Run the kernel for prepared inputs and the given levels (see ``simulate_policy``)."""
    n = inputs.n_items
    low = _column(reorder_level, n, "reorder_level", np.float64)
    high = _column(target_level, n, "target_level", np.float64)
    _check_levels(inputs, low, high)
    _check_run(periods, warmup, replications)
    rq = inputs.policy == POLICY_REORDER_QUANTITY
    if initial_net is None:
        start = np.where(rq, low + high, high)
    else:
        start = _column(initial_net, n, "initial_net", np.float64)
    raw = simulate_policy_kernel(  # type: ignore[call-arg]  # numba stubs see no *args
        *kernel_arguments(
            inputs,
            low,
            high,
            np.ascontiguousarray(start, dtype=np.float64),
            periods,
            warmup,
            replications,
            lost_sales,
        ),
        np.uint64(resolve_seed(seed)),
        inputs.ring,
    )
    return summarise(raw, int(periods), int(warmup))


def run_simulation_levels(
    inputs: SimulationInputs,
    reorder_level: np.ndarray,
    target_level: np.ndarray,
    *,
    periods: int,
    replications: int = 1,
    warmup: int = 0,
    lost_sales: bool = False,
    seed: int | np.random.Generator | None = None,
    streams: np.ndarray | None = None,
) -> list[SimulationResult]:
    """`run_simulation` at K levels per item in one kernel pass (`simulate_levels_kernel`).

    streams  i8[n] the random streams' item number of each row (default np.arange(n)): row i
             then draws exactly what row streams[i] draws in a call over the whole set

    reorder_level, target_level  f8[n, K]: column k holds level k of every item
    Returns K results; result k equals, figure for figure, `run_simulation(inputs,
    reorder_level[:, k], target_level[:, k], ...)` with the same seed (the default starting
    stock of each level included)."""
    n = inputs.n_items
    low = np.ascontiguousarray(reorder_level, dtype=np.float64)
    high = np.ascontiguousarray(target_level, dtype=np.float64)
    if low.ndim != 2 or low.shape[0] != n or high.shape != low.shape:
        raise ValueError(
            f"reorder_level and target_level must both be [{n}, levels] arrays, "
            f"got {low.shape} and {high.shape}"
        )
    for k in range(low.shape[1]):
        _check_levels(inputs, low[:, k], high[:, k])
    _check_run(periods, warmup, replications)
    ids = np.ascontiguousarray(
        np.arange(n, dtype=np.int64) if streams is None else np.asarray(streams, dtype=np.int64)
    )
    if ids.shape != (n,) or (ids < 0).any():
        raise ValueError(f"streams must be {n} non-negative item numbers, got shape {ids.shape}")
    rq = (inputs.policy == POLICY_REORDER_QUANTITY)[:, None]
    start = np.ascontiguousarray(np.where(rq, low + high, high), dtype=np.float64)
    raw = simulate_levels_kernel(  # type: ignore[call-arg]  # numba stubs see no *args
        *kernel_arguments(inputs, low, high, start, periods, warmup, replications, lost_sales),
        np.uint64(resolve_seed(seed)),
        inputs.ring,
        ids,
    )
    # one summary of all (item, level) rows (each row reduced on its own, as per level), then
    # level k's figures as views of its column
    levels, reps = low.shape[1], int(replications)
    flat = summarise(raw.reshape(N_METRICS, n * levels, reps), int(periods), int(warmup))
    return [
        SimulationResult(
            {m: v.reshape(n, levels)[:, k] for m, v in flat.mean.items()},
            {m: v.reshape(n, levels)[:, k] for m, v in flat.standard_error.items()},
            {m: v.reshape(n, levels, reps)[:, k, :] for m, v in flat.per_replication.items()},
            int(periods),
            int(warmup),
            reps,
        )
        for k in range(levels)
    ]


def simulate_policy(
    *,
    policy: int | np.ndarray,
    reorder_level: float | np.ndarray,
    target_level: float | np.ndarray,
    lead_time_pool: np.ndarray | list[np.ndarray],
    periods: int,
    replications: int = 1,
    warmup: int = 0,
    lost_sales: bool = False,
    seed: int | np.random.Generator | None = None,
    demand_pool: np.ndarray | list[np.ndarray] | None = None,
    demand_kind: int | np.ndarray = DEMAND_EMPIRICAL,
    demand_mean: float | np.ndarray = 0.0,
    demand_sd: float | np.ndarray = 0.0,
    review_period: int | np.ndarray = 1,
    moq: float | np.ndarray = 0.0,
    order_multiple: float | np.ndarray = 0.0,
    outage_start_prob: float | np.ndarray = 0.0,
    outage_recovery_prob: float | np.ndarray = 1.0,
    outage_length_pool: np.ndarray | list[np.ndarray] | None = None,
    initial_net: float | np.ndarray | None = None,
    n_items: int | None = None,
) -> SimulationResult:
    """Simulate n items' inventory policies (numba, parallel over items).

    policy          POLICY_* code per item (JIT, base-stock, (R,S), (s,S), (r,Q))
    reorder_level   [s or r] units; ignored by JIT, base-stock and (R,S)
    target_level    [S] units for base-stock, (R,S), (s,S); [Q] units for (r,Q); the starting
                    stock for JIT (0 = no buffer)
    lead_time_pool  observed lead times [periods], a 2-D array (NaN-padded rows) or one array per
                    item (a single array is shared); a fixed lead time is a pool of one value
    demand_pool     per-period demand samples [units/period] bootstrapped for DEMAND_EMPIRICAL
    demand_kind     DEMAND_* per item; demand_mean / demand_sd [units/period] for the
                    parametric ones
    review_period   [R] periods between reviews (base-stock always reviews every period)
    moq, order_multiple  [units] minimum order and order multiple (0 = none)
    outage_start_prob    probability per period that an up supplier goes down
    outage_recovery_prob probability per period that a down supplier recovers (Markov outages),
                         used when the item has no outage_length_pool
    outage_length_pool   observed outage lengths [periods] to draw from instead
    initial_net     starting net stock (default S, or r + Q for (r,Q)); nothing on order
    seed            int | numpy Generator | None; the same seed gives the same figures whatever
                    the number of numba threads
    """
    if n_items is None:
        sizes = [
            np.size(v)
            for v in (
                policy,
                reorder_level,
                target_level,
                demand_kind,
                demand_mean,
                demand_sd,
                review_period,
                moq,
                order_multiple,
                outage_start_prob,
                outage_recovery_prob,
                initial_net,
            )
            if v is not None
        ]
        for pool in (lead_time_pool, demand_pool, outage_length_pool):
            if isinstance(pool, np.ndarray) and pool.ndim == 2:
                sizes.append(pool.shape[0])
            elif isinstance(pool, (list, tuple)):
                sizes.append(len(pool))
        n_items = int(max(sizes))
    inputs = prepare_inputs(
        n_items,
        policy=policy,
        lead_time_pool=lead_time_pool,
        demand_pool=demand_pool,
        demand_kind=demand_kind,
        demand_mean=demand_mean,
        demand_sd=demand_sd,
        review_period=review_period,
        moq=moq,
        order_multiple=order_multiple,
        outage_start_prob=outage_start_prob,
        outage_recovery_prob=outage_recovery_prob,
        outage_length_pool=outage_length_pool,
    )
    return run_simulation(
        inputs,
        reorder_level,
        target_level,
        periods=periods,
        replications=replications,
        warmup=warmup,
        lost_sales=lost_sales,
        seed=seed,
        initial_net=initial_net,
    )


# ---------------------------------------------------------------- lead-time-demand convolution

STREAM_CONVOLUTION = 3


@njit(parallel=True, cache=True)
def lead_time_demand_kernel(
    demand_pool: np.ndarray,
    demand_pool_len: np.ndarray,
    lead_time_pool: np.ndarray,
    lead_time_pool_len: np.ndarray,
    review_period: np.ndarray,
    forecast: np.ndarray,
    disruption_prob: np.ndarray,
    delay_pool: np.ndarray,
    delay_pool_len: np.ndarray,
    n_samples: int,
    seed: np.uint64,
    item_offset: int,
) -> np.ndarray:
    """Monte Carlo lead-time demand per item: f8[n, n_samples].

    Each sample draws P = L + R (+ a delay from delay_pool with probability disruption_prob),
    then adds floor(P) bootstrapped per-period values from demand_pool plus the fractional
    share of one more. With a finite forecast[i], pool values are forecast errors and each
    period is max(forecast + error, 0). Pools are dense `pack_pools` rows (f8[n, k] with their
    lengths; the lead-time pool too, unlike ``simulate_policy_kernel``'s ragged one); lead times
    and delays in (possibly fractional) periods. One stream per (seed, item_offset + item): results
    do not depend on the thread count, nor on how a caller splits its items into chunks.
    """
    n = demand_pool.shape[0]
    out = np.empty((n, n_samples))
    for i in prange(n):
        state = stream_key_nb(seed, item_offset + i, 0, STREAM_CONVOLUTION)
        dlen = demand_pool_len[i]
        llen = lead_time_pool_len[i]
        use_forecast = np.isfinite(forecast[i])
        for j in range(n_samples):
            state += _GOLDEN_U
            interval = lead_time_pool[i, index_nb(mix64_nb(state), llen)] + review_period[i]
            if disruption_prob[i] > 0.0 and delay_pool_len[i] > 0:
                state += _GOLDEN_U
                if uniform_nb(mix64_nb(state)) < disruption_prob[i]:
                    state += _GOLDEN_U
                    interval += delay_pool[i, index_nb(mix64_nb(state), delay_pool_len[i])]
            whole = int(np.floor(interval))
            frac = interval - whole
            total = 0.0
            steps = whole + 1 if frac > 0.0 else whole
            for k in range(steps):
                state += _GOLDEN_U
                value = demand_pool[i, index_nb(mix64_nb(state), dlen)]
                if use_forecast:
                    value = value + forecast[i]
                    if value < 0.0:
                        value = 0.0
                total += value if k < whole else frac * value
            out[i, j] = total
    return out
