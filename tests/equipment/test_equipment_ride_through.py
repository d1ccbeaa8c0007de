"""Two "down hours a buffer masks" figures, one home (equipment/hidden_loss.py).

`stop_hours_ridden_out` (decide's hidden_loss finding): the machine's down hours a year that a
buffer outlasts when it is full at every stop, rate x E[min(stop, cover)] with exponential
stops. `hidden_loss(...).masked_hours_per_year` (the equipment buffers table's
hidden_loss_hours): the downstream machine's net starvation hours a year the buffer removes
(fluid model: refill and both machines' stops counted). The first bounds the second; they
differ most when the upstream machine is the bottleneck and cannot refill the buffer.
"""

from __future__ import annotations

import math

import pytest

from bufferwise.equipment import hidden_loss, stop_hours_ridden_out


def test_ride_through_hand_calculation() -> None:
    # 100 stops a year of mean 2 h, cover 2 h: 100 x 2 x (1 - e^-1) = 126.42 h
    assert stop_hours_ridden_out(100.0, 2.0, 2.0) == pytest.approx(200.0 * (1 - math.exp(-1)))
    assert stop_hours_ridden_out(100.0, 2.0, 2.0) == pytest.approx(126.4241, abs=1e-4)
    # no cover, no stops: nothing; a huge cover: every down hour (rate x mean = 200 h)
    assert stop_hours_ridden_out(100.0, 2.0, 0.0) == 0.0
    assert stop_hours_ridden_out(0.0, 2.0, 5.0) == 0.0
    assert stop_hours_ridden_out(100.0, 2.0, 1e6) == pytest.approx(200.0)
    # decide's WIP-A2-A3 figure: 488 stops of 3.7 h, cover 0.8 days = 19.2 h:
    # 488 x 3.7 x (1 - e^(-19.2 / 3.7)) = 1,805.6 x 0.99442 = 1,795.5 h
    assert stop_hours_ridden_out(488.0, 3.7, 19.2) == pytest.approx(1795.5, abs=0.1)


def test_bottleneck_upstream_masks_no_hours_but_rides_through_stops() -> None:
    # upstream 80 parts/h, MTBF 14.2 h, MTTR 3.7 h (e1 = 14.2 / 17.9); downstream 100 parts/h,
    # never fails. PR(0) = min(c1, c2) e1 e2 = 80 e1 and PR(inf) = min(c1 e1, c2) = 80 e1:
    # the buffer cannot refill (the upstream is slower), the upstream's lost output is lost
    # for the line with or without it, so it masks 0 hours of starvation.
    hl = hidden_loss(14.2, 3.7, math.inf, 1.0, 1730.0, 80.0, 8760.0, downstream_rate_per_hour=100)
    e1 = 14.2 / (14.2 + 3.7)
    assert hl.production_rate_no_buffer == pytest.approx(80.0 * e1, rel=1e-9)
    assert hl.production_rate_current == pytest.approx(80.0 * e1, rel=1e-6)
    assert hl.masked_hours_per_year == pytest.approx(0.0, abs=1e-3)
    # the same stops ridden out by 17.3 h of cover (1,730 parts at 100 / h), buffer full at
    # each stop: 8760 / 17.9 stops x 3.7 x (1 - e^(-17.3 / 3.7)) = 1,802 h (upper bound)
    stops = 8760.0 / (14.2 + 3.7)
    ridden = stop_hours_ridden_out(stops, 3.7, 1730.0 / 100.0)
    assert ridden == pytest.approx(stops * 3.7 * (1 - math.exp(-17.3 / 3.7)))
    assert ridden > 1790.0 > hl.masked_hours_per_year


def test_ride_through_bounds_the_fluid_figure_when_the_buffer_refills() -> None:
    # upstream faster (c1 = 150 > c2 = 100): the buffer refills between stops; the masked
    # starvation stays below the down hours a full buffer would ride out
    for buffer in (50.0, 200.0, 1000.0):
        hl = hidden_loss(
            14.2, 3.7, math.inf, 1.0, buffer, 150.0, 8760.0, downstream_rate_per_hour=100
        )
        ridden = stop_hours_ridden_out(8760.0 / 17.9, 3.7, buffer / 100.0)
        assert 0.0 < hl.masked_hours_per_year <= ridden + 1e-6
