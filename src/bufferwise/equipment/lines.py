"""Production lines with unreliable machines: throughput vs WIP buffer size, and buffer sizing.

Analytic two-machine models (J. Li & S.M. Meerkov, Production Systems Engineering, Springer 2009,
ch. 4 and 11; S.B. Gershwin, Manufacturing Systems Engineering, 1994, ch. 3):

* Bernoulli line: in each cycle machine i is up with probability p_i; blocked before service;
  buffer capacity N (excluding the machines).
      alpha = p1 (1 - p2) / (p2 (1 - p1));  P(buffer = 0) = Q(p1, p2, N)
      Q = (1 - p1)(1 - alpha) / (1 - (p1 / p2) alpha^N)   (p1 != p2);  (1 - p) / (N + 1 - p)
      PR = p2 (1 - Q(p1, p2, N)),  ST2 = p2 Q(p1, p2, N),  BL1 = p1 Q(p2, p1, N)
* Exponential continuous-flow ("fluid") line: both machines produce at rate c when up, up and
  down times exponential (failure rate lambda_i, repair rate mu_i), *time-dependent* failures
  (a starved or blocked machine can still fail), buffer N parts = N / c time units of output.
      e_i = mu_i / (lambda_i + mu_i),  phi = e1 (1 - e2) / (e2 (1 - e1))
      beta = (l1 + l2 + m1 + m2)(l1 m2 - l2 m1) / ((l1 + l2)(m1 + m2))
      Q = (1 - e1)(1 - phi) / (1 - phi exp(-beta N / c))            (e1 != e2)
      Q = l1 (l1 + l2)(m1 + m2) / ((l1 + m1)[(l1 + l2)(m1 + m2) + l2 m1 (l1 + l2 + m1 + m2) N / c])
      PR = c e2 (1 - Q)
  Limits: PR(0) = c e1 e2 (time-dependent) or c / (1 + l1/m1 + l2/m2) (operation-dependent,
  Buzacott 1967); PR(inf) = c min(e1, e2).

* Unequal speeds c1 != c2, and operation-dependent failures (a machine fails only while it
  produces), by the spectral solution of the Markov-modulated fluid queue
  (`fluid_two_machine`; Anick, Mitra & Sondhi 1982; Kulkarni 1997); PR(inf) = min(c1 e1, c2 e2).

Line efficiency E(N) = PR(N) / PR(inf): the share of what an infinite buffer could recover.

The analytic results are checked by simulation: an exact event-driven simulation of the
two-machine fluid line (either failure convention) and a cycle-by-cycle Bernoulli simulation;
longer serial lines with measured (empirical) up and down time distributions are simulated in
discrete time. Every stochastic function takes `seed: int | numpy.random.Generator | None`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numba
import numpy as np
import scipy.linalg
from scipy import optimize

from bufferwise.equipment.constants import DEFAULT_REPAIR_QUANTILE, RARE_EVENT_FACTOR
from bufferwise.errors import InvalidInput

FailureMode = Literal["time_dependent", "operation_dependent"]
Seed = int | np.random.Generator | None


def as_generator(seed: Seed) -> np.random.Generator:
    """A numpy Generator from an int seed, a Generator (used as is) or None (fresh entropy)."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _kernel_seed(seed: Seed) -> int:
    return int(as_generator(seed).integers(0, 2**31 - 1))


def _positive(name: str, value: float, allow_zero: bool = False) -> float:
    v = float(value)
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise InvalidInput(
            f"{name} = {value!r} must be a finite number {'>=' if allow_zero else '>'} 0"
        )
    return v


# ---------------------------------------------------------------------------- Bernoulli line


@dataclass(frozen=True, slots=True)
class BernoulliLineResult:
    """Two-machine Bernoulli line: production rate [parts / cycle], mean WIP [parts],
    P(M1 blocked), P(M2 starved), and the stationary buffer distribution."""

    production_rate: float
    wip: float
    blocked_1: float
    starved_2: float
    buffer_distribution: np.ndarray


def _bernoulli_distribution(p1: float, p2: float, n: int) -> np.ndarray:
    """Stationary P(buffer = i), i = 0..N (Li & Meerkov 2009, Theorem 4.1), in log space."""
    eps = 1e-15
    p1c, p2c = min(max(p1, eps), 1 - eps), min(max(p2, eps), 1 - eps)
    i = np.arange(1, n + 1, dtype=np.float64)
    log_alpha = math.log(p1c) + math.log(1 - p2c) - math.log(p2c) - math.log(1 - p1c)
    logs = np.concatenate(([0.0], i * log_alpha - math.log(1 - p2c)))
    w = np.exp(logs - logs.max())
    return w / w.sum()


def bernoulli_two_machine(p1: float, p2: float, buffer_capacity: int) -> BernoulliLineResult:
    """Li & Meerkov two-machine Bernoulli line (blocked before service), buffer N >= 1.

    p1, p2           probability each machine is up (produces) in a cycle
    buffer_capacity  N, parts the buffer holds (machines excluded)
    reference_cases.json bernoulli_two_machine_line: p1 .9, p2 .85, N 2 -> PR .820076.
    """
    for name, p in (("p1", p1), ("p2", p2)):
        if not 0 < p <= 1:
            raise InvalidInput(f"{name} = {p!r} must lie in (0, 1]")
    n = int(buffer_capacity)
    if n < 1 or n != buffer_capacity:
        raise InvalidInput(f"buffer_capacity = {buffer_capacity!r} must be a whole number >= 1")
    dist = _bernoulli_distribution(p1, p2, n)
    p0, pn = float(dist[0]), float(dist[-1])
    return BernoulliLineResult(
        production_rate=p2 * (1 - p0),
        wip=float(np.dot(np.arange(n + 1), dist)),
        blocked_1=p1 * pn * (1 - p2),
        starved_2=p2 * p0,
        buffer_distribution=dist,
    )


@numba.njit(cache=True)
def _bernoulli_sim(
    p1: float, p2: float, n: int, cycles: int, warmup: int, batches: int, seed: int
) -> np.ndarray:  # pragma: no cover - compiled
    np.random.seed(seed)
    h = 0
    per_batch = cycles // batches
    out = np.zeros(batches)
    for t in range(warmup + per_batch * batches):
        up1 = np.random.random() < p1
        up2 = np.random.random() < p2
        took = 1 if (up2 and h > 0) else 0
        made = 1 if (up1 and (h - took) < n) else 0
        h = h - took + made
        if t >= warmup:
            out[(t - warmup) // per_batch] += took
    return out / per_batch


@dataclass(frozen=True, slots=True)
class SimulationEstimate:
    """A simulated production rate with its batch-means standard error."""

    production_rate: float
    standard_error: float
    horizon: float
    batches: int


def simulate_bernoulli_line(
    p1: float,
    p2: float,
    buffer_capacity: int,
    cycles: int = 1_000_000,
    seed: Seed = None,
    batches: int = 20,
) -> SimulationEstimate:
    """Cycle-by-cycle simulation of the Bernoulli line (same conventions as the formula)."""
    n = int(buffer_capacity)
    if n < 1:
        raise InvalidInput(f"buffer_capacity = {buffer_capacity!r} must be >= 1")
    rates = _bernoulli_sim(
        float(p1), float(p2), n, int(cycles), int(cycles) // 20, batches, _kernel_seed(seed)
    )
    return SimulationEstimate(
        float(rates.mean()), float(rates.std(ddof=1) / math.sqrt(batches)), float(cycles), batches
    )


# ---------------------------------------------------------------------------- exponential line


@dataclass(frozen=True, slots=True)
class ExponentialLineResult:
    """Two-machine exponential fluid line. production_rate [parts / time unit]; the others are
    fractions of time: isolated efficiencies e1, e2, P(M1 up and blocked), P(M2 up and starved);
    line_efficiency = PR(N) / PR(inf)."""

    production_rate: float
    efficiency_1: float
    efficiency_2: float
    blocked_1: float
    starved_2: float
    line_efficiency: float


def _q_exponential(l1: float, m1: float, l2: float, m2: float, n_time: float) -> float:
    """P(machine 2 up and starved) / e2 in Li & Meerkov's exponential line; n_time = N / c."""
    e1, e2 = m1 / (l1 + m1), m2 / (l2 + m2)
    if l1 == 0:
        return 0.0  # machine 1 never fails: machine 2 is never starved
    if l2 == 0:
        return 1.0 - e1  # equal speeds, machine 2 never fails: the buffer stays empty
    phi_log = math.log(e1 * (1 - e2)) - math.log(e2 * (1 - e1))
    beta = (l1 + l2 + m1 + m2) * (l1 * m2 - l2 * m1) / ((l1 + l2) * (m1 + m2))
    if abs(phi_log) < 1e-12:
        return (
            l1
            * (l1 + l2)
            * (m1 + m2)
            / ((l1 + m1) * ((l1 + l2) * (m1 + m2) + l2 * m1 * (l1 + l2 + m1 + m2) * n_time))
        )
    x = phi_log - beta * n_time
    if x > 700:
        return 0.0
    return (1 - e1) * math.expm1(phi_log) / math.expm1(x)


def exponential_two_machine(
    lambda1: float,
    mu1: float,
    lambda2: float,
    mu2: float,
    buffer_capacity: float,
    rate: float = 1.0,
) -> ExponentialLineResult:
    """Two-machine exponential fluid line with time-dependent failures (Li & Meerkov 2009).

    lambda_i, mu_i   failure and repair rates [1 / time unit] (1 / MTBF, 1 / MTTR)
    buffer_capacity  N [parts]; math.inf for the infinite-buffer limit
    rate             c, parts per time unit of each machine when up (equal speeds)
    reference_cases.json exponential_two_machine: (.01, .1, .02, .15), N 5 -> PR 0.824699.
    """
    l1, l2 = _positive("lambda1", lambda1, True), _positive("lambda2", lambda2, True)
    m1, m2 = _positive("mu1", mu1), _positive("mu2", mu2)
    c = _positive("rate", rate)
    n = float(buffer_capacity)
    if not n >= 0:
        raise InvalidInput(f"buffer_capacity = {buffer_capacity!r} must be >= 0 (or math.inf)")
    e1, e2 = m1 / (l1 + m1), m2 / (l2 + m2)
    pr_inf = c * min(e1, e2)
    pr = pr_inf if math.isinf(n) else c * e2 * (1 - _q_exponential(l1, m1, l2, m2, n / c))
    pr = min(pr, pr_inf)
    return ExponentialLineResult(
        production_rate=pr,
        efficiency_1=e1,
        efficiency_2=e2,
        blocked_1=e1 - pr / c,
        starved_2=e2 - pr / c,
        line_efficiency=pr / pr_inf if pr_inf > 0 else float("nan"),
    )


def fluid_two_machine(
    lambda1: float,
    mu1: float,
    lambda2: float,
    mu2: float,
    buffer_capacity: float,
    rate_1: float = 1.0,
    rate_2: float | None = None,
    failures: FailureMode = "time_dependent",
) -> ExponentialLineResult:
    """Two-machine exponential fluid line, unequal speeds, either failure convention.

    rate_1, rate_2  parts per time unit of each machine when up (rate_2 default = rate_1)
    failures        "time_dependent" (a starved or blocked machine can still fail; equal speeds
                    then use the closed form of `exponential_two_machine`) or
                    "operation_dependent" (a machine fails only while it produces: machine 2
                    cannot fail while starved at an empty buffer, machine 1 not while blocked at
                    a full one)
    The line is a Markov-modulated fluid queue: the machine states (11, 10, 01, 00) form a CTMC
    with generator Q, the buffer level moves at drift d = (c1 - c2, c1, -c2, 0). In (0, N) the
    density solves f'(x) D = f(x) Q, so f(x) = sum_k a_k phi_k exp(z_k x) with phi (Q - z D) = 0
    (Anick, Mitra & Sondhi 1982; Kulkarni, "Fluid models for single buffer systems", 1997).
    The atoms p0 (level 0) and pN (level N) follow the boundary balance p0 Q0 = f(0+) D and
    pN QN = -f(N-) D, where Q0, QN are Q without the failures the convention forbids there;
    with the total mass 1 this fixes a, p0, pN.
    PR = c2 (mass with machine 2 up inside (0, N)) + min(c1, c2) p0[11] + c2 pN[11].
    Checked against `simulate_two_machine_fluid` in both conventions.
    """
    c1 = _positive("rate_1", rate_1)
    c2 = c1 if rate_2 is None else _positive("rate_2", rate_2)
    l1, l2 = _positive("lambda1", lambda1, True), _positive("lambda2", lambda2, True)
    m1, m2 = _positive("mu1", mu1), _positive("mu2", mu2)
    if failures not in ("time_dependent", "operation_dependent"):
        raise InvalidInput(
            f"failures = {failures!r}: expected time_dependent or operation_dependent"
        )
    n = float(buffer_capacity)
    if not n >= 0:
        raise InvalidInput(f"buffer_capacity = {buffer_capacity!r} must be >= 0 (or math.inf)")
    od = failures == "operation_dependent"
    if c1 == c2 and not od:
        return exponential_two_machine(l1, m1, l2, m2, n, c1)
    e1, e2 = m1 / (l1 + m1), m2 / (l2 + m2)
    pr_inf = min(c1 * e1, c2 * e2)
    if math.isinf(n):
        pr = pr_inf
    elif n == 0:
        pr = zero_buffer_production_rate(l1, m1, l2, m2, min(c1, c2), failures)
    else:
        pr = _fluid_spectral(l1, m1, l2, m2, n, c1, c2, od)
    pr = min(max(pr, min(c1, c2) * e1 * e2), pr_inf)
    return ExponentialLineResult(
        production_rate=pr,
        efficiency_1=e1,
        efficiency_2=e2,
        blocked_1=(c1 * e1 - pr) / c1,
        starved_2=(c2 * e2 - pr) / c2,
        line_efficiency=pr / pr_inf if pr_inf > 0 else float("nan"),
    )


def _fluid_spectral(
    l1: float, m1: float, l2: float, m2: float, n: float, c1: float, c2: float, od: bool
) -> float:
    # a machine that never fails: a tiny failure rate keeps the CTMC irreducible
    l1 = max(l1, 1e-12 * m1)
    l2 = max(l2, 1e-12 * m2)
    e1, e2 = m1 / (l1 + m1), m2 / (l2 + m2)
    if abs(c1 * e1 - c2 * e2) < 1e-9 * max(c1, c2):
        c1 *= 1 + 1e-7  # zero mean drift: a double zero eigenvalue; nudge off it
    g1 = np.array([[-l1, l1], [m1, -m1]])
    g2 = np.array([[-l2, l2], [m2, -m2]])
    q = np.kron(g1, np.eye(2)) + np.kron(np.eye(2), g2)  # states 11, 10, 01, 00
    d = np.array([c1 - c2, c1, -c2, 0.0])
    d[np.abs(d) < 1e-12 * max(c1, c2)] = 0.0
    q0, qn = q.copy(), q.copy()
    if od:
        q0[2, 3], q0[2, 2] = 0.0, -m1  # 01 at an empty buffer: machine 2 starved, cannot fail
        qn[1, 3], qn[1, 1] = 0.0, -m2  # 10 at a full buffer: machine 1 blocked, cannot fail
    w, v = scipy.linalg.eig(q.T, np.diag(d))
    finite = np.isfinite(w) & (np.abs(w) < 1e12)
    z = w[finite].real
    phi = v[:, finite].real
    nf = len(z)
    if nf != int(np.count_nonzero(d)):
        raise InvalidInput("fluid line: the eigenproblem is degenerate for these rates")
    # basis exp(z (x - x_k)) with x_k = N for z > 0, else 0: every term <= 1 on [0, N]
    pos = z > 0
    at0 = np.where(pos, np.exp(np.where(pos, -z * n, 0.0)), 1.0)
    at_n = np.where(pos, 1.0, np.exp(np.where(pos, 0.0, z * n)))
    absz = np.abs(z)
    big = absz > 1e-14
    integral = np.where(big, -np.expm1(-absz * n) / np.where(big, absz, 1.0), n)
    s0 = [s for s in range(4) if d[s] <= 0]  # phases that can sit at an empty buffer
    sn = [s for s in range(4) if d[s] >= 0]  # phases that can sit at a full buffer
    k0, kn = nf + len(s0), nf + len(s0) + len(sn)
    a = np.zeros((9, kn))
    rhs = np.zeros(9)
    for s in range(4):
        a[s, :nf] = phi[s] * at0 * d[s]
        a[4 + s, :nf] = -phi[s] * at_n * d[s]
        for j, r in enumerate(s0):
            a[s, nf + j] = -q0[r, s]
        for j, r in enumerate(sn):
            a[4 + s, k0 + j] = -qn[r, s]
    a[8, :nf] = phi.sum(axis=0) * integral
    a[8, nf:] = 1.0
    rhs[8] = 1.0
    u = np.linalg.lstsq(a, rhs, rcond=None)[0]
    inner = phi @ (u[:nf] * integral)  # probability mass inside (0, N) per phase
    p0 = dict(zip(s0, u[nf:k0], strict=True))
    pn = dict(zip(sn, u[k0:kn], strict=True))
    return float(c2 * (inner[0] + inner[2]) + min(c1, c2) * p0.get(0, 0.0) + c2 * pn.get(0, 0.0))


def zero_buffer_production_rate(
    lambda1: float,
    mu1: float,
    lambda2: float,
    mu2: float,
    rate: float = 1.0,
    failures: FailureMode = "time_dependent",
) -> float:
    """PR with no buffer: c e1 e2 (time-dependent failures) or c / (1 + l1/m1 + l2/m2)
    (operation-dependent, Buzacott 1967). reference_cases.json buffer_limits_zero_and_infinite."""
    if failures == "time_dependent":
        return rate * (mu1 / (lambda1 + mu1)) * (mu2 / (lambda2 + mu2))
    if failures == "operation_dependent":
        return rate / (1 + lambda1 / mu1 + lambda2 / mu2)
    raise InvalidInput(f"failures = {failures!r}: expected time_dependent or operation_dependent")


def infinite_buffer_production_rate(
    lambda1: float, mu1: float, lambda2: float, mu2: float, rate: float = 1.0
) -> float:
    """PR with an infinite buffer: c min(e1, e2) (either failure convention)."""
    return rate * min(mu1 / (lambda1 + mu1), mu2 / (lambda2 + mu2))


def smallest_buffer(
    lambda1: float,
    mu1: float,
    lambda2: float,
    mu2: float,
    target_efficiency: float,
    rate: float = 1.0,
    rate_2: float | None = None,
    failures: FailureMode = "time_dependent",
) -> float:
    """Smallest buffer N [parts, continuous] with line efficiency PR(N) / PR(inf) >= target
    (exponential fluid model, `fluid_two_machine`; rate_2 default = rate). 0 if the coupled
    line already reaches the target; inf if the target is 1 or more."""
    if not 0 < target_efficiency <= 1:
        raise InvalidInput(f"target_efficiency = {target_efficiency!r} must lie in (0, 1]")

    def gap(n: float) -> float:
        line = fluid_two_machine(lambda1, mu1, lambda2, mu2, n, rate, rate_2, failures)
        return line.line_efficiency - target_efficiency

    if gap(0.0) >= 0:
        return 0.0
    if target_efficiency >= 1:
        return math.inf
    hi = max(rate, rate_2 or rate) * max(1.0 / mu1, 1.0 / mu2)
    for _ in range(200):
        if gap(hi) >= 0:
            break
        hi *= 2
    else:
        return math.inf
    return float(optimize.brentq(gap, 0.0, hi, xtol=1e-9 * max(hi, 1.0)))


# ---------------------------------------------------------------------------- fluid simulation


@numba.njit(cache=True)
def _fluid_two_machine_sim(
    l1: float,
    m1: float,
    l2: float,
    m2: float,
    n: float,
    c1: float,
    c2: float,
    horizon: float,
    warmup: float,
    batches: int,
    operation_dependent: bool,
    seed: int,
) -> np.ndarray:  # pragma: no cover
    np.random.seed(seed)
    up1, up2 = True, True
    x = 0.5 * n
    t = 0.0
    end = warmup + horizon
    width = horizon / batches
    out = np.zeros(batches)
    while t < end:
        # flows in the current state
        if up1 and up2:
            if x <= 0.0 and c1 <= c2:
                f1, f2 = c1, c1  # empty buffer: machine 2 takes what machine 1 makes
            elif x >= n and c1 >= c2:
                f1, f2 = c2, c2  # full buffer: machine 1 slowed to machine 2's rate
            else:
                f1, f2 = c1, c2
        elif up1:
            f2 = 0.0
            f1 = c1 if x < n else 0.0
        elif up2:
            f1 = 0.0
            f2 = c2 if x > 0.0 else 0.0
        else:
            f1, f2 = 0.0, 0.0
        dx = f1 - f2
        # hazards
        r1 = (l1 if (not operation_dependent or f1 > 0.0) else 0.0) if up1 else m1
        r2 = (l2 if (not operation_dependent or f2 > 0.0) else 0.0) if up2 else m2
        total = r1 + r2
        dt_event = np.random.exponential(1.0 / total) if total > 0 else np.inf
        if dx > 0:
            dt_bound = (n - x) / dx
        elif dx < 0:
            dt_bound = x / -dx
        else:
            dt_bound = np.inf
        dt = min(dt_event, dt_bound, end - t)
        # accumulate output of machine 2 over [t, t + dt), split across batches
        a = t
        b = t + dt
        while a < b:
            if a < warmup:
                a = min(b, warmup)
                continue
            k = int((a - warmup) / width)
            if k >= batches:
                break
            seg_end = min(b, warmup + (k + 1) * width)
            out[k] += f2 * (seg_end - a)
            a = seg_end
        t = b
        x = x + dx * dt
        if x < 0.0:
            x = 0.0
        if x > n:
            x = n
        if dt == dt_event and dt_event < dt_bound:
            if np.random.random() * total < r1:
                up1 = not up1
            else:
                up2 = not up2
    return out / width


def simulate_two_machine_fluid(
    lambda1: float,
    mu1: float,
    lambda2: float,
    mu2: float,
    buffer_capacity: float,
    rate: float = 1.0,
    *,
    rate_2: float | None = None,
    horizon: float = 1e6,
    failures: FailureMode = "time_dependent",
    seed: Seed = None,
    batches: int = 20,
) -> SimulationEstimate:
    """Exact event-driven simulation of the two-machine fluid line with exponential up / down
    times. rate_2 (default = rate) allows unequal speeds. horizon in the time unit of the rates;
    a warm-up of 5% of it is discarded; the standard error is from `batches` batch means."""
    n = _positive("buffer_capacity", buffer_capacity, True)
    rng_seed = _kernel_seed(seed)
    out = _fluid_two_machine_sim(
        float(lambda1),
        float(mu1),
        float(lambda2),
        float(mu2),
        n,
        float(rate),
        float(rate if rate_2 is None else rate_2),
        float(horizon),
        0.05 * float(horizon),
        int(batches),
        failures == "operation_dependent",
        rng_seed,
    )
    return SimulationEstimate(
        float(out.mean()), float(out.std(ddof=1) / math.sqrt(batches)), float(horizon), batches
    )


# ---------------------------------------------------------------------------- serial lines


@numba.njit(cache=True)
def _serial_sim(
    up_pool: np.ndarray,
    up_off: np.ndarray,
    down_pool: np.ndarray,
    down_off: np.ndarray,
    rates: np.ndarray,
    caps: np.ndarray,
    steps: int,
    warmup: int,
    dt: float,
    batches: int,
    operation_dependent: bool,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    np.random.seed(seed)
    k = rates.shape[0]
    up = np.ones(k, dtype=np.bool_)
    remaining = np.empty(k)
    for i in range(k):
        lo, hi = up_off[i], up_off[i + 1]
        remaining[i] = up_pool[lo + np.random.randint(hi - lo)]
    level = caps * 0.5
    flow = np.zeros(k)
    limited_in = np.zeros(k, dtype=np.bool_)
    out = np.zeros(batches)
    starved = np.zeros(k)
    blocked = np.zeros(k)
    mean_level = np.zeros(max(k - 1, 1))
    per_batch = (steps - warmup) // batches
    for s in range(warmup + per_batch * batches):
        # the most material that can move this step: a forward pass bounds each machine by its
        # capacity and its input (buffer + what its feeder makes now), a backward pass by the
        # space left downstream (buffer room + what its successor takes now)
        for i in range(k):
            cap = rates[i] * dt if up[i] else 0.0
            inflow = np.inf if i == 0 else level[i - 1] + flow[i - 1]
            flow[i] = min(cap, inflow)
            limited_in[i] = inflow < cap
        for i in range(k - 2, -1, -1):
            room = caps[i] - level[i] + flow[i + 1]
            if room < flow[i]:
                flow[i] = max(room, 0.0)
        for i in range(k):
            if i > 0:
                level[i - 1] -= flow[i]
            if i < k - 1:
                level[i] += flow[i]
                if level[i] < 0.0:
                    level[i] = 0.0
            cap = rates[i] * dt
            if s >= warmup and up[i] and flow[i] < cap * (1.0 - 1e-9):
                if limited_in[i]:
                    starved[i] += 1.0 - flow[i] / cap
                else:
                    blocked[i] += 1.0 - flow[i] / cap
        if s >= warmup:
            b = (s - warmup) // per_batch
            out[b] += flow[k - 1]
            for j in range(k - 1):
                mean_level[j] += level[j]
        for i in range(k):
            if up[i]:
                work = dt
                if operation_dependent:
                    work = flow[i] / rates[i]
                remaining[i] -= work
                if remaining[i] <= 0.0:
                    up[i] = False
                    lo, hi = down_off[i], down_off[i + 1]
                    remaining[i] = down_pool[lo + np.random.randint(hi - lo)]
            else:
                remaining[i] -= dt
                if remaining[i] <= 0.0:
                    up[i] = True
                    lo, hi = up_off[i], up_off[i + 1]
                    remaining[i] = up_pool[lo + np.random.randint(hi - lo)]
    n_obs = per_batch * batches
    return out / (per_batch * dt), starved / n_obs, blocked / n_obs, mean_level / n_obs


@dataclass(frozen=True, slots=True)
class SerialLineResult:
    """Simulated serial line: production rate [parts / time unit] with its standard error, the
    fraction of time each machine is up but starved / blocked, and the mean buffer levels."""

    production_rate: float
    standard_error: float
    starved: np.ndarray
    blocked: np.ndarray
    mean_buffer_levels: np.ndarray
    time_step: float
    horizon: float


def simulate_serial_line(
    up_times: Sequence[Sequence[float] | np.ndarray],
    down_times: Sequence[Sequence[float] | np.ndarray],
    rates: Sequence[float],
    buffer_capacities: Sequence[float],
    *,
    horizon: float,
    time_step: float | None = None,
    failures: FailureMode = "operation_dependent",
    seed: Seed = None,
    batches: int = 20,
) -> SerialLineResult:
    """Discrete-time fluid simulation of a serial line of K >= 2 machines and K - 1 buffers.

    up_times[i], down_times[i]  measured (or fitted-and-drawn) up and down durations of machine
                                i, resampled with replacement (empirical distributions)
    rates[i]                    parts per time unit of machine i when up
    buffer_capacities[j]        parts between machine j and j + 1
    time_step                   default: 1/50 of the shortest mean up or down time, and no more
                                than 1/10 of the smallest buffer's fill time; error is O(step)
    failures                    "operation_dependent" (up time runs only while producing, the
                                usual case for wear) or "time_dependent"
    """
    k = len(rates)
    if k < 2 or len(up_times) != k or len(down_times) != k or len(buffer_capacities) != k - 1:
        raise InvalidInput(
            "a serial line needs K >= 2 machines with up_times, down_times and rates for each "
            "and K - 1 buffer capacities"
        )
    ups = [np.asarray(u, dtype=np.float64) for u in up_times]
    downs = [np.asarray(d, dtype=np.float64) for d in down_times]
    for i, (u, d) in enumerate(zip(ups, downs, strict=True)):
        if len(u) == 0 or len(d) == 0 or np.any(u <= 0) or np.any(d <= 0):
            raise InvalidInput(
                f"machine {i}: up and down times must be non-empty and > 0 "
                "(give a very long up time for a machine that never fails)"
            )
    r = np.asarray(rates, dtype=np.float64)
    caps = np.asarray(buffer_capacities, dtype=np.float64)
    if np.any(r <= 0) or np.any(caps < 0):
        raise InvalidInput("rates must be > 0 and buffer capacities >= 0")
    if time_step is None:
        shortest = min(min(float(u.mean()) for u in ups), min(float(d.mean()) for d in downs))
        dt = shortest / 50.0
        positive = caps[caps > 0]
        if len(positive):
            dt = min(dt, float(positive.min() / r.max()) / 10.0)
    else:
        dt = _positive("time_step", time_step)
    steps = math.ceil(horizon / dt)
    up_pool = np.concatenate(ups)
    down_pool = np.concatenate(downs)
    up_off = np.concatenate(([0], np.cumsum([len(u) for u in ups]))).astype(np.int64)
    down_off = np.concatenate(([0], np.cumsum([len(d) for d in downs]))).astype(np.int64)
    warmup = steps // 20
    out, st, bl, lv = _serial_sim(
        up_pool,
        up_off,
        down_pool,
        down_off,
        r,
        caps,
        steps + warmup,
        warmup,
        dt,
        int(batches),
        failures == "operation_dependent",
        _kernel_seed(seed),
    )
    return SerialLineResult(
        production_rate=float(out.mean()),
        standard_error=float(out.std(ddof=1) / math.sqrt(batches)),
        starved=st,
        blocked=bl,
        mean_buffer_levels=lv[: k - 1],
        time_step=dt,
        horizon=steps * dt,
    )


# ---------------------------------------------------------------------------- coverage rule


@dataclass(frozen=True, slots=True)
class CoverageBuffer:
    """Repair-time coverage buffer = consumption rate x repair-time quantile.

    buffer_units           parts to hold
    repair_quantile_hours  the repair time covered (quantile of the repair-time distribution)
    refill_hours           time to rebuild the buffer after a repair at the spare rate
    conditions_hold        whether the stated conditions hold for the given figures
    conditions             each condition in words, with its numbers
    """

    buffer_units: float
    repair_quantile_hours: float
    quantile: float
    refill_hours: float
    conditions_hold: bool
    conditions: tuple[str, ...]


def repair_coverage_buffer(
    consumption_rate_per_hour: float,
    *,
    quantile: float = DEFAULT_REPAIR_QUANTILE,
    repair_times_hours: Sequence[float] | np.ndarray | None = None,
    mttr_hours: float | None = None,
    upstream_rate_per_hour: float | None = None,
    mtbf_hours: float | None = None,
    max_refill_share_of_mtbf: float = 0.1,
) -> CoverageBuffer:
    """Buffer that keeps the consumer supplied through a repair of the feeding machine.

    buffer = consumption rate [parts / h] x repair-time quantile [h] (empirical quantile of
    `repair_times_hours`, else exponential with mean `mttr_hours`: -MTTR ln(1 - q)).
    It holds when (1) the buffer is full when a failure starts: the feeding machine runs faster
    than the consumer (spare rate = upstream - consumption > 0) and refills the buffer in a small
    share of the MTBF (refill <= max_refill_share_of_mtbf x MTBF); (2) failures come one at a
    time (MTBF >= RARE_EVENT_FACTOR = 10 x the covered repair time); (3) the consumer itself
    does not fail in a way that matters (its own stops only help the buffer). A repair longer
    than the quantile still starves the consumer, with probability 1 - q per failure.
    """
    d = _positive("consumption_rate_per_hour", consumption_rate_per_hour)
    if not 0 < quantile < 1:
        raise InvalidInput(f"quantile = {quantile!r} must lie in (0, 1)")
    if repair_times_hours is not None and len(repair_times_hours) > 0:
        rq = float(np.quantile(np.asarray(repair_times_hours, dtype=float), quantile))
        source = f"empirical {quantile:.0%} quantile of {len(repair_times_hours)} repairs"
    elif mttr_hours is not None and math.isfinite(mttr_hours):
        rq = -float(mttr_hours) * math.log(1 - quantile)
        source = f"exponential repair times, MTTR {mttr_hours:.3g} h"
    else:
        raise InvalidInput("give repair_times_hours or a finite mttr_hours")
    buffer = d * rq
    conditions = [
        f"repair time covered: {rq:.3g} h ({source}); a longer repair "
        f"starves the consumer (probability {1 - quantile:.0%} per failure)"
    ]
    hold = True
    refill = float("nan")
    if upstream_rate_per_hour is not None:
        spare = float(upstream_rate_per_hour) - d
        if spare <= 0:
            hold = False
            conditions.append(
                f"the feeding machine ({upstream_rate_per_hour:.3g}/h) is not faster than the "
                f"consumer ({d:.3g}/h): the buffer never refills"
            )
        else:
            refill = buffer / spare
            conditions.append(f"refill at the spare rate {spare:.3g}/h takes {refill:.3g} h")
    else:
        conditions.append("feeding-machine speed not given: refill time not checked")
    if mtbf_hours is not None and math.isfinite(refill):
        ok = refill <= max_refill_share_of_mtbf * mtbf_hours
        hold = hold and ok
        conditions.append(
            f"refill {refill:.3g} h {'<=' if ok else '>'} {max_refill_share_of_mtbf:.0%} of MTBF "
            f"{mtbf_hours:.3g} h"
        )
    if mtbf_hours is not None:
        ok = mtbf_hours >= RARE_EVENT_FACTOR * rq
        hold = hold and ok
        conditions.append(
            f"failures one at a time: MTBF {mtbf_hours:.3g} h {'>=' if ok else '<'} "
            f"{RARE_EVENT_FACTOR:g} x covered repair {rq:.3g} h"
        )
    return CoverageBuffer(buffer, rq, quantile, refill, hold, tuple(conditions))
