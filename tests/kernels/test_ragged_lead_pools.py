"""Ragged lead-time pools: `prepare_inputs` stores every item's lead times once (flat values,
start offsets, lengths) with `pack_pools`' checks and messages, `take_rows` gathers them, and
the kernels draw from each item's slice exactly what the reference twin draws."""

from __future__ import annotations

import numpy as np
import pytest

from bufferwise.kernels import inventory as inv
from bufferwise.kernels.reference import simulate_policy_reference


def _pools(inputs: inv.SimulationInputs) -> list[np.ndarray]:
    start, length = inputs.lead_time_pool_start, inputs.lead_time_pool_len
    return [inputs.lead_time_pool[s : s + k] for s, k in zip(start, length, strict=True)]


def _dense_rows(packed: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
    return [row[:k] for row, k in zip(packed, lengths, strict=True)]


def _message(call: object) -> str:
    try:
        call()  # type: ignore[operator]
    except ValueError as exc:
        return str(exc)
    raise AssertionError("no ValueError")


def _assert_same_rows(pools: object, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    flat, start, length = inv.pack_ragged(pools, n, "lead_time_pool", np.int64)  # type: ignore[arg-type]
    packed, dense_len = inv.pack_pools(pools, n, "lead_time_pool", np.int64)  # type: ignore[arg-type]
    assert flat.dtype == np.int64 and start.dtype == np.int64 and length.dtype == np.int64
    assert flat.flags.c_contiguous
    assert np.array_equal(length, dense_len)
    for i, row in enumerate(_dense_rows(packed, dense_len)):
        assert np.array_equal(flat[start[i] : start[i] + length[i]], row), i
    return flat, start, length


def test_list_of_rows_is_concatenated_in_item_order() -> None:
    rng = np.random.default_rng(3)
    rows = [rng.integers(0, 30, k) for k in (3, 1, 1314, 7, 400, 2)]
    flat, start, length = _assert_same_rows(rows, len(rows))
    assert np.array_equal(flat, np.concatenate(rows))
    assert np.array_equal(start, np.cumsum(length) - length)
    # float rows (whole numbers), lists and a mix of dtypes give the same values
    floats = [r.astype(float) for r in rows]
    assert np.array_equal(_assert_same_rows(floats, len(rows))[0], flat)
    mixed: list[object] = [rows[0].tolist(), floats[1], rows[2].astype(np.int32), *rows[3:]]
    assert np.array_equal(_assert_same_rows(mixed, len(rows))[0], flat)


def test_nan_padded_matrix_becomes_ragged() -> None:
    pad = np.full((4, 5), np.nan)
    for i, k in enumerate((1, 5, 3, 2)):
        pad[i, :k] = np.arange(k) + 10 * i
    flat, _start, length = _assert_same_rows(pad, 4)
    assert np.array_equal(length, [1, 5, 3, 2])
    assert np.array_equal(flat, pad[np.isfinite(pad)].astype(np.int64))


@pytest.mark.parametrize(
    "shared", [np.array([2, 5, 9]), np.array([[2.0, 5.0, 9.0, np.nan]]), [np.array([2, 5, 9])]]
)
def test_one_shared_pool_is_stored_once(shared: object) -> None:
    flat, start, length = _assert_same_rows(shared, 6)
    assert np.array_equal(flat, [2, 5, 9])
    assert np.array_equal(start, np.zeros(6)) and np.array_equal(length, np.full(6, 3))


@pytest.mark.parametrize(
    "pools",
    [
        [np.array([1.0, 2.0]), np.array([1.0, np.nan]), np.array([2.5])],  # NaN first
        [np.array([1.0, 2.0]), np.array([1.5]), np.array([np.inf])],  # fraction first
        [np.array([1.0]), np.array([1.5, np.nan]), np.array([2.0])],  # both in one item
        [np.array([1.0]), np.array([2.0])],  # too few rows
        np.array([[1.0, np.nan, 2.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]),  # padding inside
        np.array([[1.0, 2.0], [1.0, 2.25], [4.0, np.nan]]),  # a fraction in a matrix
        np.array([[1.0, 2.0], [1.0, 2.0]]),  # too few matrix rows
    ],
)
def test_checks_and_messages_are_those_of_pack_pools(pools: object) -> None:
    ragged = _message(lambda: inv.pack_ragged(pools, 3, "lead_time_pool", np.int64))  # type: ignore[arg-type]
    dense = _message(lambda: inv.pack_pools(pools, 3, "lead_time_pool", np.int64))  # type: ignore[arg-type]
    assert ragged == dense
    assert ragged.startswith("lead_time_pool")


def test_prepare_inputs_checks_lead_times() -> None:
    with pytest.raises(ValueError, match="item 1 has a NaN"):
        inv.prepare_inputs(
            2, policy=1, lead_time_pool=[np.array([1.0]), np.array([np.nan])], demand_kind=1
        )
    with pytest.raises(ValueError, match=">= 0 periods"):
        inv.prepare_inputs(
            2, policy=1, lead_time_pool=[np.array([1]), np.array([-1])], demand_kind=1
        )
    with pytest.raises(ValueError, match="at least one lead time"):
        inv.prepare_inputs(2, policy=1, lead_time_pool=[np.array([1]), np.array([])], demand_kind=1)
    inputs = inv.prepare_inputs(
        3,
        policy=1,
        lead_time_pool=[np.array([1, 4]), np.array([0]), np.array([7, 2, 3])],
        demand_kind=1,
    )
    assert inputs.ring == 9
    assert np.array_equal(inputs.lead_time_pool, [1, 4, 0, 7, 2, 3])
    assert np.array_equal(inputs.lead_time_pool_start, [0, 2, 3])


def _long_pool_inputs(
    n: int = 9, seed: int = 4
) -> tuple[inv.SimulationInputs, np.ndarray, np.ndarray]:
    """Ragged pools (one item with a long pool), every policy, outages on some items."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 12, n)
    lengths[2] = 1314
    pools = [rng.integers(0, 9, k) for k in lengths]
    pools[2] = rng.integers(0, 40, 1314)
    policy = np.array([0, 1, 2, 3, 4, 4, 3, 2, 1])[:n]
    inputs = inv.prepare_inputs(
        n,
        policy=policy,
        lead_time_pool=pools,
        demand_pool=[rng.poisson(3, 30).astype(float) for _ in range(n)],
        review_period=rng.integers(1, 4, n),
        moq=rng.choice([0.0, 4.0], n),
        order_multiple=rng.choice([0.0, 3.0], n),
        outage_start_prob=rng.choice([0.0, 0.05], n),
        outage_recovery_prob=0.4,
    )
    low = rng.uniform(5, 40, n)
    high = low + rng.uniform(5, 30, n)
    return inputs, low, high


@pytest.mark.parametrize("lost_sales", [False, True])
def test_kernels_on_ragged_pools_equal_the_reference(lost_sales: bool) -> None:
    inputs, low, high = _long_pool_inputs()
    start = np.where(inputs.policy == inv.POLICY_REORDER_QUANTITY, low + high, high)
    args = inv.kernel_arguments(inputs, low, high, start, 150, 10, 2, lost_sales)
    fast = inv.simulate_policy_kernel(*args, np.uint64(99), inputs.ring)
    slow = simulate_policy_reference(*args, 99, inputs.ring)
    assert np.array_equal(fast, slow, equal_nan=True)
    levels = inv.run_simulation_levels(
        inputs,
        np.stack([low, low + 2.0], axis=1),
        np.stack([high, high + 3.0], axis=1),
        periods=150,
        warmup=10,
        replications=2,
        lost_sales=lost_sales,
        seed=99,
    )
    raw = np.stack([levels[0].per_replication[m] for m in inv.METRICS])
    assert np.array_equal(raw, fast, equal_nan=True)


def test_take_rows_gathers_ragged_rows_in_order() -> None:
    inputs, low, high = _long_pool_inputs()
    rows = np.array([2, 0, 2, 8, 5])
    part = inv.take_rows(inputs, rows)
    whole_pools = _pools(inputs)
    assert [p.tolist() for p in _pools(part)] == [whole_pools[i].tolist() for i in rows]
    assert np.array_equal(
        part.lead_time_pool_start, np.cumsum(part.lead_time_pool_len) - part.lead_time_pool_len
    )
    assert part.lead_time_pool.size == part.lead_time_pool_len.sum()
    assert part.ring == inputs.ring
    lows = np.stack([low, low + 1.0], axis=1)
    highs = np.stack([high, high + 1.0], axis=1)
    whole = inv.run_simulation_levels(inputs, lows, highs, periods=120, replications=2, seed=3)
    sub = inv.run_simulation_levels(
        part, lows[rows], highs[rows], periods=120, replications=2, seed=3, streams=rows
    )
    for k in range(2):
        for metric in inv.METRICS:
            assert np.array_equal(
                sub[k].per_replication[metric],
                whole[k].per_replication[metric][rows],
                equal_nan=True,
            ), (k, metric)
    # one shared pool stays one pool
    shared = inv.prepare_inputs(5, policy=1, lead_time_pool=np.array([3, 1, 4]), demand_kind=1)
    two = inv.take_rows(shared, np.array([4, 1]))
    assert np.array_equal(two.lead_time_pool, [3, 1, 4])
    assert np.array_equal(two.lead_time_pool_start, [0, 0])
    assert np.array_equal(two.lead_time_pool_len, [3, 3])
    assert inv.take_rows(inputs, np.zeros(0, dtype=np.int64)).lead_time_pool.size == 0


def test_pieces_are_packed_from_their_whole_array_until_changed() -> None:
    from bufferwise.kernels.inventory import Pieces, pack_pools, pack_ragged

    whole = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3], dtype=np.int64)
    pieces = Pieces(whole, np.array([2, 3, 0, 5]))
    assert [list(p) for p in pieces] == [[3, 1], [4, 1, 5], [], [9, 2, 6, 5, 3]]
    values, starts, lengths = pack_ragged(pieces, 4, "lead_time_pool", np.int64)
    assert np.shares_memory(values, whole) and list(starts) == [0, 2, 5, 5]
    assert list(lengths) == [2, 3, 0, 5]
    plain = pack_ragged(list(pieces), 4, "lead_time_pool", np.int64)
    assert all(np.array_equal(a, b) for a, b in zip(plain, (values, starts, lengths), strict=True))
    pieces[1] = np.array([7, 7, 7])  # changed: packed as a list, the change included
    values, _, _ = pack_ragged(pieces, 4, "lead_time_pool", np.int64)
    assert not np.shares_memory(values, whole) and list(values[2:5]) == [7, 7, 7]
    block = np.arange(12.0)
    rows = Pieces(block, np.full(4, 3))
    packed, lengths = pack_pools(rows, 4, "demand_pool", np.float64)
    assert np.shares_memory(packed, block) and packed.shape == (4, 3)
    assert np.array_equal(packed, pack_pools(list(rows), 4, "demand_pool", np.float64)[0])
    assert np.shares_memory(rows.gather(np.arange(4), 3), block)
    assert np.array_equal(rows.gather(np.array([2, 0]), 3), [[6, 7, 8], [0, 1, 2]])
