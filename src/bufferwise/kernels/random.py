"""Counter-based random numbers shared by the numba kernels and their NumPy reference.

The generator is splitmix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number
generators", OOPSLA 2014): a 64-bit state advanced by a fixed odd constant and passed through a
bijective mixing function. Each (seed, item, replication, stream) gets its own key, so the numbers
an item sees never depend on which thread simulates it or on how many threads there are.

Two implementations of every function live here: numba ones (``*_nb``), used inside the kernels,
and pure-Python ones on Python ints masked to 64 bits, used by ``kernels.reference``. Both perform
the same integer arithmetic, so they return bit-identical draws.

Streams used by the inventory kernel: 0 = demand, 1 = lead times, 2 = supplier outages.
"""

from __future__ import annotations

import numpy as np
from numba import njit

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
SEED_SALT = 0x632BE59BD9B4E019
ITEM_STEP = 0x9E3779B97F4A7C15
REPLICATION_STEP = 0xD1B54A32D192ED03
STREAM_STEP = 0x8CB92BA72F3D8DD7
TWO_POW_MINUS_53 = 1.0 / 9007199254740992.0

STREAM_DEMAND = 0
STREAM_LEAD_TIME = 1
STREAM_OUTAGE = 2

_GOLDEN_U = np.uint64(GOLDEN)
_MIX1_U = np.uint64(MIX1)
_MIX2_U = np.uint64(MIX2)
_SEED_SALT_U = np.uint64(SEED_SALT)
_ITEM_STEP_U = np.uint64(ITEM_STEP)
_REPLICATION_STEP_U = np.uint64(REPLICATION_STEP)
_STREAM_STEP_U = np.uint64(STREAM_STEP)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_S32 = np.uint64(32)
_ONE_U = np.uint64(1)


# ---------------------------------------------------------------- numba versions


@njit(cache=True, inline="always")
def mix64_nb(z: np.uint64) -> np.uint64:
    """splitmix64 finaliser: a bijection of 64-bit integers with good avalanche."""
    z = (z ^ (z >> _S30)) * _MIX1_U
    z = (z ^ (z >> _S27)) * _MIX2_U
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def stream_key_nb(seed: np.uint64, item: int, replication: int, stream: int) -> np.uint64:
    """Starting state of the stream (seed, item, replication, stream)."""
    k = mix64_nb(seed + _SEED_SALT_U)
    k = mix64_nb(k + (np.uint64(item) + _ONE_U) * _ITEM_STEP_U)
    k = mix64_nb(k + (np.uint64(replication) + _ONE_U) * _REPLICATION_STEP_U)
    return mix64_nb(k + (np.uint64(stream) + _ONE_U) * _STREAM_STEP_U)


@njit(cache=True, inline="always")
def uniform_nb(x: np.uint64) -> float:
    """A 64-bit draw to a float in [0, 1) with 53 random bits."""
    return float(x >> _S11) * TWO_POW_MINUS_53


@njit(cache=True, inline="always")
def uniform_open_nb(x: np.uint64) -> float:
    """A 64-bit draw to a float in (0, 1]: safe under log()."""
    return (float(x >> _S11) + 1.0) * TWO_POW_MINUS_53


@njit(cache=True, inline="always")
def index_nb(x: np.uint64, length: int) -> np.int64:
    """A 64-bit draw to an index in [0, length) (multiply-high on the top 32 bits)."""
    return np.int64(((x >> _S32) * np.uint64(length)) >> _S32)


# ---------------------------------------------------------------- pure-Python versions


def mix64(z: int) -> int:
    """Pure-Python twin of ``mix64_nb``."""
    z &= MASK64
    z = ((z ^ (z >> 30)) * MIX1) & MASK64
    z = ((z ^ (z >> 27)) * MIX2) & MASK64
    return z ^ (z >> 31)


def stream_key(seed: int, item: int, replication: int, stream: int) -> int:
    """Pure-Python twin of ``stream_key_nb``."""
    k = mix64(seed + SEED_SALT)
    k = mix64(k + (item + 1) * ITEM_STEP)
    k = mix64(k + (replication + 1) * REPLICATION_STEP)
    return mix64(k + (stream + 1) * STREAM_STEP)


def uniform(x: int) -> float:
    """Pure-Python twin of ``uniform_nb``."""
    return float(x >> 11) * TWO_POW_MINUS_53


def uniform_open(x: int) -> float:
    """Pure-Python twin of ``uniform_open_nb``."""
    return (float(x >> 11) + 1.0) * TWO_POW_MINUS_53


def index(x: int, length: int) -> int:
    """Pure-Python twin of ``index_nb``."""
    return ((x >> 32) * length) >> 32


def seed_to_uint64(seed: int) -> int:
    """Map any Python int seed onto the generator's 64-bit seed space."""
    return seed & MASK64


__all__ = [
    "GOLDEN",
    "MASK64",
    "STREAM_DEMAND",
    "STREAM_LEAD_TIME",
    "STREAM_OUTAGE",
    "index",
    "index_nb",
    "mix64",
    "mix64_nb",
    "seed_to_uint64",
    "stream_key",
    "stream_key_nb",
    "uniform",
    "uniform_nb",
    "uniform_open",
    "uniform_open_nb",
]
