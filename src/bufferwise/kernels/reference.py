"""Plain-Python reference of the inventory kernel: the same model, the same random draws.

``simulate_policy_reference`` takes exactly the arguments of ``inventory.simulate_policy_kernel``
and returns the same f8[N_METRICS, n, replications] array. It is written for clarity (one loop
per item, replication and period, Python floats and ints) and is what the tests compare the numba
kernel against, figure for figure, on small cases. It is slow (about 10^5 to 10^6 item-periods/s).
"""

from __future__ import annotations

import math

import numpy as np

from bufferwise.kernels.inventory import (
    DEMAND_EMPIRICAL,
    DEMAND_NORMAL,
    DEMAND_POISSON,
    N_METRICS,
    POISSON_INVERSION_LIMIT,
    POLICY_BASE_STOCK,
    POLICY_JIT,
    POLICY_MIN_MAX,
    POLICY_ORDER_UP_TO,
    ROUNDING_SLACK,
)
from bufferwise.kernels.random import (
    GOLDEN,
    MASK64,
    STREAM_DEMAND,
    STREAM_LEAD_TIME,
    STREAM_OUTAGE,
    index,
    mix64,
    stream_key,
    uniform,
    uniform_open,
)

_TWO_PI = 2.0 * math.pi


class _Stream:
    """One splitmix64 stream: state advanced by GOLDEN, output mixed."""

    __slots__ = ("state",)

    def __init__(self, key: int) -> None:
        self.state = key

    def next(self) -> int:
        self.state = (self.state + GOLDEN) & MASK64
        return mix64(self.state)


def _normal(stream: _Stream) -> float:
    u1 = uniform_open(stream.next())
    u2 = uniform(stream.next())
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(_TWO_PI * u2)


def _gamma(shape: float, stream: _Stream) -> float:
    boost = 1.0
    if shape < 1.0:
        boost = uniform_open(stream.next()) ** (1.0 / shape)
        shape += 1.0
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        x = _normal(stream)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = uniform_open(stream.next())
        if math.log(u) < 0.5 * x * x + d - d * v + d * math.log(v):
            return d * v * boost


def _demand(
    kind: int, mean: float, sd: float, pool: np.ndarray, pool_len: int, stream: _Stream
) -> float:
    if kind == DEMAND_EMPIRICAL:
        return float(pool[index(stream.next(), pool_len)])
    if kind == DEMAND_NORMAL:
        value = mean + sd * _normal(stream)
        return value if value > 0.0 else 0.0
    if kind == DEMAND_POISSON:
        if mean < POISSON_INVERSION_LIMIT:
            u = uniform(stream.next())
            k = 0
            p = math.exp(-mean)
            cdf = p
            while u > cdf and k < 100000:
                k += 1
                p = p * mean / k
                cdf += p
            return float(k)
        value = float(math.floor(mean + math.sqrt(mean) * _normal(stream) + 0.5))
        return value if value > 0.0 else 0.0
    if mean <= 0.0:
        return 0.0
    if sd <= 0.0:
        return mean
    shape = (mean / sd) * (mean / sd)
    return _gamma(shape, stream) * (sd * sd / mean)


def simulate_policy_reference(
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
    seed: int,
    ring: int,
) -> np.ndarray:
    """Reference twin of ``simulate_policy_kernel`` (same arguments, same output)."""
    n = len(policy)
    out = np.empty((N_METRICS, n, replications))
    seed = int(seed) & MASK64
    for i in range(n):
        pol = int(policy[i])
        review = 1 if pol == POLICY_BASE_STOCK else int(review_period[i])
        low, high = float(reorder_level[i]), float(target_level[i])
        start_p, recover_p = float(outage_start_prob[i]), float(outage_recovery_prob[i])
        out_len = int(outage_length_pool_len[i])
        counted = periods - warmup
        for rep in range(replications):
            arrivals = [0.0] * ring
            demand_stream = _Stream(stream_key(seed, i, rep, STREAM_DEMAND))
            lead_stream = _Stream(stream_key(seed, i, rep, STREAM_LEAD_TIME))
            outage_stream = _Stream(stream_key(seed, i, rep, STREAM_OUTAGE))
            net = float(initial_net[i])
            on_order = waiting = used = 0.0
            up, down_left = True, 0
            slot, countdown = 0, review
            sum_demand = sum_short = sum_on_hand = sum_backorders = sum_ordered = 0.0
            stockouts = orders = cycles = cycles_ok = 0
            cycle_open = cycle_short = False
            for t in range(periods):
                # 1. supplier state
                if up:
                    if start_p > 0.0 and uniform(outage_stream.next()) < start_p:
                        up = False
                        if out_len > 0:
                            down_left = int(
                                outage_length_pool[i, index(outage_stream.next(), out_len)]
                            )
                            if down_left <= 0:
                                up = True
                elif out_len > 0:
                    down_left -= 1
                    if down_left <= 0:
                        up = True
                elif uniform(outage_stream.next()) < recover_p:
                    up = True
                # 2. receive
                waiting += arrivals[slot]
                arrivals[slot] = 0.0
                if up and waiting > 0.0:
                    net += waiting
                    on_order -= waiting
                    waiting = 0.0
                # 3. demand
                demand = _demand(
                    int(demand_kind[i]),
                    float(demand_mean[i]),
                    float(demand_sd[i]),
                    demand_pool[i],
                    int(demand_pool_len[i]),
                    demand_stream,
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
                    countdown = review
                    position = net + on_order
                    quantity = 0.0
                    if pol == POLICY_JIT:
                        quantity = used
                    elif pol in (POLICY_BASE_STOCK, POLICY_ORDER_UP_TO):
                        if position < high:
                            quantity = high - position
                    elif pol == POLICY_MIN_MAX:
                        if position <= low:
                            quantity = high - position
                    elif position <= low:
                        quantity = (math.floor((low - position) / high) + 1.0) * high
                    used = 0.0
                    if quantity > 0.0:
                        if quantity < float(moq[i]):
                            quantity = float(moq[i])
                        multiple = float(order_multiple[i])
                        if multiple > 0.0:
                            quantity = math.ceil(quantity / multiple - ROUNDING_SLACK) * multiple
                        # item i's pool: a slice of the ragged pool
                        pick = index(lead_stream.next(), int(lead_time_pool_len[i]))
                        lead = int(lead_time_pool[int(lead_time_pool_start[i]) + pick])
                        arrivals[(slot + lead + 1) % ring] += quantity
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
                slot = (slot + 1) % ring
            out[0, i, rep] = 1.0 - sum_short / sum_demand if sum_demand > 0.0 else 1.0
            out[1, i, rep] = cycles_ok / cycles if cycles > 0 else np.nan
            out[2, i, rep] = sum_on_hand / counted
            out[3, i, rep] = sum_backorders / counted
            out[4, i, rep] = sum_short / counted
            out[5, i, rep] = stockouts
            out[6, i, rep] = orders
            out[7, i, rep] = sum_demand / counted
            out[8, i, rep] = cycles
            out[9, i, rep] = sum_ordered / orders if orders > 0 else np.nan
    return out
