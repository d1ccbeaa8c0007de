"""(s,S) policy with random lead times over 100,000 items x 365 periods (target >= 3 x 10^7
item-periods/s on 2 cores).

Prints, in one run, item-periods per second for
- the numba kernel (bufferwise.kernels.simulate_policy_kernel) on the full size,
- the plain-Python reference (bufferwise.kernels.reference) on a sample of items, checked to give
  the very same figures as the kernel for those items,
- stockpyl and inventorize on a sample, when benchmarks/_work/venv holds them (their PyPI
  packages are never installed into the project's environment):

    python3 -m venv benchmarks/_work/venv
    benchmarks/_work/venv/bin/pip install stockpyl inventorize

Usage:
    .venv/bin/python benchmarks/kernel_benchmark.py                  # 100,000 items x 365
    .venv/bin/python benchmarks/kernel_benchmark.py --items 10000 --sample 50
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import textwrap
import time
from pathlib import Path
from typing import Any

import numba
import numpy as np

from bufferwise.kernels import (
    POLICY_MIN_MAX,
    SimulationInputs,
    prepare_inputs,
    simulate_policy_kernel,
)
from bufferwise.kernels.inventory import kernel_arguments
from bufferwise.kernels.reference import simulate_policy_reference

TARGET = 3e7
WORK_VENV = Path(__file__).resolve().parent / "_work" / "venv" / "bin" / "python"


def build(
    items: int, seed: int = 0
) -> tuple[SimulationInputs, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per item: 365 days of negative-binomial demand history and 12 observed lead times."""
    rng = np.random.default_rng(seed)
    mean = rng.gamma(2.0, 5.0, items) + 0.5
    demand = rng.negative_binomial(2, 2 / (2 + mean[:, None]), (items, 365)).astype(float)
    lead_mean = rng.integers(3, 20, items)
    leads = np.maximum(1, rng.poisson(lead_mean[:, None], (items, 12)))
    inputs = prepare_inputs(
        items, policy=POLICY_MIN_MAX, lead_time_pool=leads.astype(float), demand_pool=demand
    )
    s = np.round(mean * (lead_mean + 1) + 2 * np.sqrt(mean * (lead_mean + 1)) * 1.5)
    big_s = s + np.round(mean * 10)
    return inputs, s, big_s, mean, lead_mean


def kernel_args(
    inputs: SimulationInputs, low: np.ndarray, high: np.ndarray, periods: int
) -> tuple[Any, ...]:
    """(s,S) from S, no warm-up, one replication, backorders."""
    return kernel_arguments(inputs, low, high, high.copy(), periods, 0, 1, False)


def subset(inputs: SimulationInputs, rows: np.ndarray) -> SimulationInputs:
    from bufferwise.kernels import take_rows

    return take_rows(inputs, rows)


LIBRARY_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    out = {}
    args = json.loads(sys.argv[1])
    mean, sd, lead, s, S, periods, items = (args[k] for k in
        ("mean", "sd", "lead", "s", "S", "periods", "items"))
    try:
        from stockpyl.supply_chain_network import single_stage_system
        from stockpyl.sim import simulation
        t = time.perf_counter()
        for i in range(items):
            net = single_stage_system(holding_cost=1, stockout_cost=10, demand_type="N",
                mean=mean, standard_deviation=sd, shipment_lead_time=lead, policy_type="sS",
                reorder_point=s, order_up_to_level=S)
            simulation(net, num_periods=periods, rand_seed=i, progress_bar=False)
        out["stockpyl"] = items * periods / (time.perf_counter() - t)
    except Exception as exc:  # report, never hide
        out["stockpyl_error"] = repr(exc)[:300]
    try:
        import inventorize as inv
        rng = np.random.default_rng(0)
        t = time.perf_counter()
        for i in range(items):
            demand = np.maximum(0, rng.normal(mean, sd, periods)).round()
            inv.sim_min_max_normal(demand, mean, sd, lead, 0.95, S, Min=s, shortage_cost=10,
                                   inventory_cost=1, ordering_cost=1)
        out["inventorize"] = items * periods / (time.perf_counter() - t)
    except Exception as exc:
        out["inventorize_error"] = repr(exc)[:300]
    print(json.dumps(out))
    """
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--periods", type=int, default=365)
    parser.add_argument("--sample", type=int, default=200, help="items for the Python reference")
    parser.add_argument(
        "--library-items", type=int, default=3, help="items for stockpyl/inventorize"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2024)
    opts = parser.parse_args()

    inputs, s, big_s, mean, lead_mean = build(opts.items)
    print(
        f"(s,S), random lead times (12 observed per item), bootstrapped demand; "
        f"{opts.items:,} items x {opts.periods} periods, numba threads {numba.get_num_threads()}, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    small = subset(inputs, np.arange(min(10, opts.items)))
    t = time.perf_counter()
    simulate_policy_kernel(*kernel_args(small, s[:10], big_s[:10], 5), np.uint64(1), small.ring)
    print(f"  compile / cache load            {time.perf_counter() - t:8.2f} s")

    best = np.inf
    full = None
    for _ in range(opts.repeat):
        t = time.perf_counter()
        full = simulate_policy_kernel(
            *kernel_args(inputs, s, big_s, opts.periods), np.uint64(opts.seed), inputs.ring
        )
        best = min(best, time.perf_counter() - t)
    rate = opts.items * opts.periods / best
    print(
        f"  numba kernel                    {rate:12.3e} item-periods/s  ({best:.3f} s; target "
        f"{TARGET:.0e}: {'met' if rate >= TARGET else 'NOT met'})"
    )

    rows = np.arange(min(opts.sample, opts.items))
    sub = subset(inputs, rows)
    t = time.perf_counter()
    ref = simulate_policy_reference(
        *kernel_args(sub, s[rows], big_s[rows], opts.periods), opts.seed, inputs.ring
    )
    elapsed = time.perf_counter() - t
    same = full is not None and np.array_equal(ref, full[:, rows, :], equal_nan=True)
    print(
        f"  Python reference ({rows.size} items)   "
        f"{rows.size * opts.periods / elapsed:12.3e} item-periods/s  "
        f"(same figures as the kernel: {same})"
    )
    if full is not None:
        print(
            f"  mean fill rate {np.mean(full[0]):.4f}, "
            f"mean cycle service {np.nanmean(full[1]):.4f}, "
            f"mean on hand {np.mean(full[2]):.1f}"
        )

    if WORK_VENV.exists():
        i = 0
        lib = {
            "mean": float(mean[i]),
            "sd": float(np.sqrt(mean[i] + mean[i] ** 2 / 2)),
            "lead": int(lead_mean[i]),
            "s": float(s[i]),
            "S": float(big_s[i]),
            "periods": opts.periods,
            "items": opts.library_items,
        }
        done = subprocess.run(
            [str(WORK_VENV), "-c", LIBRARY_SCRIPT, json.dumps(lib)],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        try:
            figures = json.loads(done.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            figures = {"error": (done.stderr or done.stdout)[-300:]}
        for name in ("stockpyl", "inventorize"):
            if name in figures:
                print(
                    f"  {name:<12} ({opts.library_items} items, fixed lead time, normal demand) "
                    f"{figures[name]:12.3e} item-periods/s"
                )
            else:
                print(
                    f"  {name:<12} not measured: "
                    f"{figures.get(name + '_error', figures.get('error'))}"
                )
    else:
        print(f"  stockpyl / inventorize: not measured ({WORK_VENV} does not exist)")


if __name__ == "__main__":
    main()
