"""Analyze end to end: a synthetic plant of 100,000 items x 730 days, 50 machines, in SQLite.

    .venv/bin/python benchmarks/analyze_benchmark.py                 # full size (issue 7)
    .venv/bin/python benchmarks/analyze_benchmark.py --items 5000    # smaller
    .venv/bin/python benchmarks/analyze_benchmark.py --keep DIR      # keep the database in DIR

Steps, each in its own subprocess so that peak memory is that step's alone:
  1. generate the plant (vectorised, not timed as part of analyze) and import it once into a
     fresh SQLite file with `Repository.import_batch` (import time reported separately: the
     import path has its own benchmark, benchmarks/import_benchmark.py);
  2. `bufferwise.services.analyze.analyze` on the already-imported database with the default
     settings: reading the canonical tables, profile (with forecasting), equipment, decide
     (with its sub-stages from the progress callback) and storing the run's output tables.
Prints each stage's time, the total, the peak resident memory (getrusage ru_maxrss) and the
target of issue 7 (<= 60 s and <= 4 GiB on 2 cores). The numba kernels are compiled (cached)
by a small warm-up analyze in the same subprocess before the timed run.

The plant: demand rows only on days with demand (30 % smooth items, 45 % intermittent, 25 %
lumpy; about 46 % of item-days carry a row: 34 million rows at full size); 90 % of items bought
from 500 suppliers with about 5 receipts (purchase-order lines) each, 1-3 % of them disrupted
(late by 20-90 days); 10 % made on one of 50 machines whose state logs (Weibull up times,
lognormal repairs, weekly planned stops) and per-shift production counts cover the 730 days;
25 WIP buffers between machine pairs; 30 % of items reviewed weekly (R,S), the rest (r,Q).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TARGET_S = 60.0
TARGET_GIB = 4.0
DAYS = 730
START = np.datetime64("2023-01-02", "D")
SUPPLIERS = 500
MACHINES = 50
RECEIPTS_PER_ITEM = 5
MADE_SHARE = 0.10
WARMUP_ITEMS = 300


# ------------------------------------------------------------------------- the plant


def item_ids(n: int) -> np.ndarray:
    return np.array([f"I{i:06d}" for i in range(n)], dtype=object)


def synthetic_demand(items: int, seed: int = 0) -> pd.DataFrame:
    """Daily demand rows (only days with demand); the mix of profile_benchmark.py."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(3, items, p=[0.30, 0.45, 0.25])
    p_occ = np.where(kind == 0, rng.uniform(0.85, 1.0, items), rng.uniform(0.03, 0.5, items))
    size_shape = np.where(kind == 2, 0.6, 4.0)
    size_scale = rng.uniform(2.0, 20.0, items)
    codes, days, qty = [], [], []
    chunk = 5_000
    for lo in range(0, items, chunk):
        hi = min(items, lo + chunk)
        occ = rng.random((hi - lo, DAYS)) < p_occ[lo:hi, None]
        size = rng.gamma(size_shape[lo:hi, None], size_scale[lo:hi, None], (hi - lo, DAYS))
        r, c = np.nonzero(occ)
        codes.append((r + lo).astype(np.int32))
        days.append(c.astype(np.int64))
        qty.append(np.ceil(size[r, c]))
    dates = (START + np.concatenate(days).astype("timedelta64[D]")).astype("datetime64[ns]")
    n_rows = len(dates)
    return pd.DataFrame(
        {
            "item_id": item_ids(items)[np.concatenate(codes)],
            "date": dates,
            "quantity": np.concatenate(qty),
            "returns": np.zeros(n_rows),
        }
    )


def synthetic_items(items: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = item_ids(items)
    made = rng.random(items) < MADE_SHARE
    supplier = np.array([f"S{i:03d}" for i in rng.integers(0, SUPPLIERS, items)], dtype=object)
    machine = np.array([f"M{i:02d}" for i in rng.integers(0, MACHINES, items)], dtype=object)
    lead = np.where(made, rng.integers(2, 10, items), np.round(rng.gamma(3.0, 8.0, items)) + 2)
    set_on = START + rng.integers(0, DAYS, items).astype("timedelta64[D]")
    current = np.round(rng.gamma(1.5, 20.0, items))
    return pd.DataFrame(
        {
            "item_id": ids,
            "description": None,
            "category": np.array(["raw", "component", "spare", "packaging", "finished"])[
                rng.integers(0, 5, items)
            ],
            "unit_cost": np.round(rng.lognormal(3.0, 1.2, items), 2),
            "holding_rate": 0.25,
            "stockout_cost": np.nan,
            "criticality": np.array(["low", "medium", "high", "critical"])[
                rng.choice(4, items, p=[0.3, 0.4, 0.2, 0.1])
            ],
            "supplier_id": np.where(made, None, supplier),
            "nominal_lead_time_days": lead.astype(float),
            "review_period_days": np.where(rng.random(items) < 0.3, 7.0, 0.0),
            "moq": 0.0,
            "order_multiple": 1.0,
            "order_cost": 50.0,
            "current_safety_stock": np.where(rng.random(items) < 0.9, current, np.nan),
            "current_reorder_point": np.nan,
            "buffer_set_on": set_on.astype("datetime64[ns]"),
            "machine_id": np.where(made, machine, None),
        }
    )


def synthetic_receipts(items: pd.DataFrame, seed: int = 2) -> pd.DataFrame:
    """About RECEIPTS_PER_ITEM purchase-order lines per bought item."""
    rng = np.random.default_rng(seed)
    bought = items[items["supplier_id"].notna()]
    k = rng.poisson(RECEIPTS_PER_ITEM, len(bought)) + 1
    row = np.repeat(np.arange(len(bought)), k)
    n = len(row)
    nominal = bought["nominal_lead_time_days"].to_numpy(float)[row]
    sup_code = bought["supplier_id"].str[1:].astype(int).to_numpy()[row]
    disrupted_share = 0.01 + 0.02 * (sup_code % 3 == 0)
    order = START + rng.integers(0, DAYS - 60, n).astype("timedelta64[D]")
    lead = np.maximum(np.round(nominal * rng.gamma(16.0, 1 / 16.0, n)), 1).astype(np.int64)
    late = np.where(
        rng.random(n) < disrupted_share, rng.integers(20, 90, n), rng.integers(-2, 4, n)
    )
    promised = order + np.round(nominal).astype(np.int64).astype("timedelta64[D]")
    received = np.maximum(order + (lead + late).astype("timedelta64[D]"), order)
    qty = rng.integers(1, 50, n).astype(float) * 10
    return pd.DataFrame(
        {
            "po_id": np.array([f"PO{i:08d}" for i in range(n)], dtype=object),
            "item_id": bought["item_id"].to_numpy(dtype=object)[row],
            "supplier_id": bought["supplier_id"].to_numpy(dtype=object)[row],
            "order_date": order.astype("datetime64[ns]"),
            "promised_date": promised.astype("datetime64[ns]"),
            "received_date": received.astype("datetime64[ns]"),
            "qty_ordered": qty,
            "qty_received": qty,
        }
    )


def synthetic_machines(seed: int = 3) -> dict[str, pd.DataFrame]:
    """Machines, state logs (running / down / planned_stop), shift counts and WIP buffers."""
    rng = np.random.default_rng(seed)
    horizon = DAYS * 86400
    t0 = START.astype("datetime64[s]")
    ids = [f"M{i:02d}" for i in range(MACHINES)]
    cycle = rng.uniform(20.0, 90.0, MACHINES)
    events: list[pd.DataFrame] = []
    counts: list[pd.DataFrame] = []
    for m, mid in enumerate(ids):
        scale_h = rng.uniform(30.0, 400.0)
        ups = rng.weibull(1.3, 2_000) * scale_h * 3600
        repairs = rng.lognormal(np.log(2.0 * 3600), 0.9, 2_000)
        starts = np.cumsum(np.column_stack([ups, repairs]).ravel())
        starts = np.concatenate([[0.0], starts])
        starts = starts[starts < horizon].astype(np.int64)
        ends = np.append(starts[1:], horizon)
        state = np.where(np.arange(len(starts)) % 2 == 0, "running", "down")
        # weekly planned stops on Sundays 08:00-16:00 cut out of running time
        sundays = (np.arange(6, DAYS, 7) * 86400 + 8 * 3600).astype(np.int64)
        frame = pd.DataFrame(
            {
                "machine_id": mid,
                "start": t0 + starts.astype("timedelta64[s]"),
                "end": t0 + ends.astype("timedelta64[s]"),
                "state": state,
                "reason": np.where(state == "down", "breakdown", None),
                "component": "",
            }
        )
        running = frame["state"].to_numpy() == "running"
        busy = np.zeros(len(sundays), dtype=bool)
        down_s = starts[~running]
        down_e = ends[~running]
        pos = np.searchsorted(down_s, sundays, side="right") - 1
        ok = pos >= 0
        busy[ok] = down_e[pos[ok]] > sundays[ok]
        free = sundays[~busy]
        planned = pd.DataFrame(
            {
                "machine_id": mid,
                "start": t0 + free.astype("timedelta64[s]"),
                "end": t0 + (free + 8 * 3600).astype("timedelta64[s]"),
                "state": "planned_stop",
                "reason": "preventive maintenance",
                "component": "",
            }
        )
        events.append(_cut_running(frame, planned))
        shifts = np.arange(0, horizon, 8 * 3600, dtype=np.int64)
        total = np.floor(8 * 3600 * rng.uniform(0.6, 0.9, len(shifts)) / cycle[m])
        good = total - rng.binomial(total.astype(np.int64), 0.015)
        counts.append(
            pd.DataFrame(
                {
                    "machine_id": mid,
                    "start": t0 + shifts.astype("timedelta64[s]"),
                    "end": t0 + (shifts + 8 * 3600).astype("timedelta64[s]"),
                    "total_count": total,
                    "good_count": good,
                }
            )
        )
    machines = pd.DataFrame(
        {
            "machine_id": ids,
            "name": [f"machine {i}" for i in range(MACHINES)],
            "model": None,
            "ideal_cycle_time_s": cycle,
            "planned_hours_per_day": 24.0,
            "age_years": rng.uniform(1, 20, MACHINES).round(1),
        }
    )
    buffers = pd.DataFrame(
        {
            "buffer_id": [f"B{i:02d}" for i in range(MACHINES // 2)],
            "upstream_machine_id": ids[0::2][: MACHINES // 2],
            "downstream_machine_id": ids[1::2][: MACHINES // 2],
            "item_id": None,
            "current_level": rng.integers(50, 500, MACHINES // 2).astype(float),
            "capacity": 1000.0,
        }
    )
    ev = pd.concat(events, ignore_index=True)
    for c in ("start", "end"):
        ev[c] = ev[c].astype("datetime64[ns]")
    pc = pd.concat(counts, ignore_index=True)
    for c in ("start", "end"):
        pc[c] = pc[c].astype("datetime64[ns]")
    return {
        "machines": machines,
        "machine_events": ev,
        "production_counts": pc,
        "wip_buffers": buffers,
    }


def _cut_running(log: pd.DataFrame, planned: pd.DataFrame) -> pd.DataFrame:
    """Running intervals with the planned stops (which fall inside running time) cut out."""
    run = log[log["state"] == "running"]
    rs, re = run["start"].to_numpy(), run["end"].to_numpy()
    ps, pe = planned["start"].to_numpy(), planned["end"].to_numpy()
    host = np.searchsorted(rs, ps, side="right") - 1
    ok = (host >= 0) & (pe <= re[np.maximum(host, 0)])
    ps, pe = ps[ok], pe[ok]
    planned = planned[ok]
    # pieces between consecutive boundaries that lie inside a running interval and outside
    # every planned stop
    points = np.unique(np.concatenate([rs, re, ps, pe]))
    piece_s, piece_e = points[:-1], points[1:]
    in_run = np.searchsorted(rs, piece_s, side="right") - 1
    keep = (in_run >= 0) & (piece_e <= re[np.maximum(in_run, 0)]) & (piece_e > piece_s)
    inside_stop = np.searchsorted(ps, piece_s, side="right") - 1
    stop = (inside_stop >= 0) & (piece_s < pe[np.maximum(inside_stop, 0)])
    keep &= ~stop
    pieces = pd.DataFrame(
        {
            "machine_id": log["machine_id"].iloc[0],
            "start": piece_s[keep],
            "end": piece_e[keep],
            "state": "running",
            "reason": None,
            "component": "",
        }
    )
    out = pd.concat([pieces, log[log["state"] != "running"], planned], ignore_index=True)
    return out.sort_values("start", kind="stable").reset_index(drop=True)


def build_plant(items: int) -> dict[str, pd.DataFrame]:
    it = synthetic_items(items)
    tables = {"items": it, "demand": synthetic_demand(items), "receipts": synthetic_receipts(it)}
    tables.update(synthetic_machines())
    made = it.loc[it["machine_id"].notna(), "item_id"].to_numpy(dtype=object)
    buffers = tables["wip_buffers"]
    buffers["item_id"] = made[: len(buffers)] if len(made) >= len(buffers) else None
    return tables


# ------------------------------------------------------------------------- the steps


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def child_import(url: str, items: int) -> dict[str, Any]:
    from bufferwise.model import FileReport, ImportBatch
    from bufferwise.storage import open_repository

    t0 = time.perf_counter()
    tables = build_plant(items)
    generate_s = time.perf_counter() - t0
    rows = {k: len(v) for k, v in tables.items()}
    files = [
        FileReport(f"synthetic/{k}.csv", f"synthetic-{items}-{k}", "canonical", n, n)
        for k, n in rows.items()
    ]
    batch = ImportBatch(tables=tables, files=files)
    repo = open_repository(url)
    t1 = time.perf_counter()
    repo.import_batch(batch)
    import_s = time.perf_counter() - t1
    repo.close()
    return {"generate_s": generate_s, "import_s": import_s, "rows": rows, "peak_gib": peak_gib()}


class StepMemory:
    """Resident size sampled every 0.2 s during the timed analyze, labelled with the stage and
    step that analyze last reported (`--memory`): the largest sample of each step."""

    def __init__(self) -> None:
        import threading

        from bufferwise.services import analyze as service

        self.label = "read"
        self.peaks: dict[str, float] = {}
        self.stop = threading.Event()
        original = service._Steps.progress

        def progress(steps: Any, step: str, done: int, total: int) -> None:
            self.label = f"{steps.stage}.{step}"
            original(steps, step, done, total)

        service._Steps.progress = progress  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def tick(self, stage: str, done: int, total: int) -> None:
        if not self.label.startswith(stage + "."):
            self.label = stage

    def sample(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        self.children_peak = 0.0  # the child processes' resident size (the forecast)
        self.combined_peak = 0.0  # this process's + its children's, sampled together
        while not self.stop.wait(0.2):
            with open("/proc/self/statm") as statm:
                rss = int(statm.read().split()[1]) * page / 2**30
            self.peaks[self.label] = max(self.peaks.get(self.label, 0.0), rss)
            children = 0.0
            for pid in self._children():
                try:
                    with open(f"/proc/{pid}/statm") as statm:
                        children += int(statm.read().split()[1]) * page / 2**30
                except OSError:
                    pass  # ended meanwhile
            self.children_peak = max(self.children_peak, children)
            self.combined_peak = max(self.combined_peak, rss + children)

    @staticmethod
    def _children() -> set[str]:
        """This process's children that run a program of their own. A child caught between
        fork and exec still shares this process's pages (its resident size reads as this
        process's: 2 GiB counted twice once in a while); it is known by its command line,
        still this process's."""
        found: set[str] = set()
        for task in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{task}/children") as listed:
                    found.update(listed.read().split())
            except OSError:
                pass
        with open("/proc/self/cmdline", "rb") as own:
            mine = own.read()
        running: set[str] = set()
        for pid in found:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as theirs:
                    if theirs.read() != mine:
                        running.add(pid)
            except OSError:
                pass  # ended meanwhile
        return running


def child_analyze(url: str, warm_url: str, memory: bool = False) -> dict[str, Any]:
    from bufferwise.services.analyze import analyze
    from bufferwise.settings import Settings

    settings = Settings()
    analyze(warm_url, settings)  # compiles (or loads) the numba kernels; not timed
    warm_peak = peak_gib()
    trace = StepMemory() if memory else None
    if trace is not None:
        trace.thread.start()
    t0 = time.perf_counter()
    result = analyze(url, settings, progress=trace.tick if trace is not None else None)
    total_s = time.perf_counter() - t0
    if trace is not None:
        trace.stop.set()
    return {
        "step_peaks_gib": trace.peaks if trace is not None else {},
        "total_s": total_s,
        "timings": dict(result.timings),
        "items": len(result.decisions.items),
        "stances": result.decisions.items["stance"].value_counts().to_dict(),
        "peak_gib": peak_gib(),
        "warmup_peak_gib": warm_peak,
        "children_peak_gib": trace.children_peak if trace is not None else None,
        "combined_peak_gib": trace.combined_peak if trace is not None else None,
        "notes": [n for n in result.decisions.notes if "budget" in n or "forecast" in n],
    }


def run_child(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{args[1]} failed:\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def report(items: int, imp: dict[str, Any], ana: dict[str, Any]) -> None:
    rows = imp["rows"]
    print(f"\nplant: {items:,} items x {DAYS} days, {MACHINES} machines")
    print("  rows: " + ", ".join(f"{k} {v:,}" for k, v in rows.items()))
    print(
        f"  generated in {imp['generate_s']:.1f} s, imported into SQLite in "
        f"{imp['import_s']:.1f} s (peak {imp['peak_gib']:.2f} GiB; not part of analyze)"
    )
    print(f"\nanalyze on the imported database ({ana['items']:,} items decided)")
    print(f"  {'stage':<28}{'seconds':>9}")
    timings = ana["timings"]
    for stage, seconds in timings.items():
        if "." in stage:
            continue
        print(f"  {stage:<28}{seconds:>9.1f}")
        for step, step_s in timings.items():
            if step.startswith(stage + "."):
                print(f"      {step.split('.', 1)[1]:<24}{step_s:>9.1f}")
    if "forecast.computed" in timings:
        print(
            f"  {'forecast (child process)':<28}{timings['forecast.computed']:>9.1f}"
            f"   beside equipment and decide; waited for after decide: "
            f"{timings.get('forecast.waited', 0.0):.1f} s"
        )
    print(f"  {'total (wall)':<28}{ana['total_s']:>9.1f}")
    stages = {k: v for k, v in ana["timings"].items() if "." not in k}
    slowest = max(stages.items(), key=lambda kv: kv[1])
    steps = {k: v for k, v in ana["timings"].items() if k.startswith(slowest[0] + ".")}
    worst = max(steps.items(), key=lambda kv: kv[1]) if steps else None
    print(
        f"  slowest stage: {slowest[0]} ({slowest[1]:.1f} s)"
        + (f", its slowest step {worst[0]} ({worst[1]:.1f} s)" if worst else "")
    )
    print(f"  peak memory: {ana['peak_gib']:.2f} GiB (warm-up alone {ana['warmup_peak_gib']:.2f})")
    if ana.get("children_peak_gib"):
        print(
            f"  its child process (the forecast, beside decide): peak resident "
            f"{ana['children_peak_gib']:.2f} GiB; the two together at most "
            f"{ana['combined_peak_gib']:.2f} GiB (0.2 s samples)"
        )
    if ana.get("step_peaks_gib"):
        print("  resident memory by step (largest 0.2 s sample, GiB):")
        for step, gib in ana["step_peaks_gib"].items():
            print(f"      {step:<28} {gib:5.2f}")
    print(f"  stances: {ana['stances']}")
    for note in ana["notes"]:
        print(f"  note: {note}")
    ok_t = ana["total_s"] <= TARGET_S
    # the analyze process, or it and its child process together when sampled (--memory)
    ok_m = max(ana["peak_gib"], ana.get("combined_peak_gib") or 0.0) <= TARGET_GIB
    goal = f"target (issue 7, at 100,000 items): <= {TARGET_S:g} s and <= {TARGET_GIB:g} GiB"
    if items == 100_000:
        print(
            f"\n{goal} -> time {'met' if ok_t else 'NOT met'}, "
            f"memory {'met' if ok_m else 'NOT met'}"
        )
    else:
        print(f"\n{goal}; this run has {items:,} items, so no verdict")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, default=None, help="folder for the databases")
    parser.add_argument("--child", choices=("import", "analyze"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--warm-url", help=argparse.SUPPRESS)
    parser.add_argument("--reuse", action="store_true", help="reuse an imported --keep database")
    parser.add_argument(
        "--memory", action="store_true", help="sample resident memory and print each step's peak"
    )
    args = parser.parse_args()
    if args.child == "import":
        print(json.dumps(child_import(args.url, args.items)))
        return
    if args.child == "analyze":
        print(json.dumps(child_analyze(args.url, args.warm_url, args.memory)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        db = folder / f"plant_{args.items}.db"
        warm = folder / f"plant_{WARMUP_ITEMS}.db"
        url, warm_url = f"sqlite:///{db}", f"sqlite:///{warm}"
        if not (args.reuse and warm.exists()):
            warm.unlink(missing_ok=True)
            run_child("--child", "import", "--url", warm_url, "--items", str(WARMUP_ITEMS))
        if args.reuse and db.exists():
            imp_path = folder / f"plant_{args.items}.import.json"
            imp = json.loads(imp_path.read_text())
        else:
            db.unlink(missing_ok=True)
            imp = run_child("--child", "import", "--url", url, "--items", str(args.items))
            (folder / f"plant_{args.items}.import.json").write_text(json.dumps(imp))
        memory = ["--memory"] if args.memory else []
        ana = run_child("--child", "analyze", "--url", url, "--warm-url", warm_url, *memory)
        report(args.items, imp, ana)


if __name__ == "__main__":
    main()
