"""Issue 6: an item fed by the unreliable machine moves toward JIC because of that machine.

The equipment layer turns the machine's measured stops into a supply-outage process for the
items it makes (`equipment.item_outage_processes`); decide sizes each such item twice: with the
machine as measured, and as if the machine never failed (`Analysis.machine_free_ss`). The
example plant's generator records which machine is unreliable and which items it feeds.
"""

from __future__ import annotations

import numpy as np

from .conftest import Decided


def test_items_of_the_unreliable_machine_hold_more_because_of_it(decided: Decided) -> None:
    truth = decided.plant.truth
    machine = truth.unreliable_machine_id
    fed = set(truth.items_fed_by(machine))
    assert fed, "the generator plants items fed by its unreliable machine"
    a = decided.decisions.analysis
    ids = a.risk.item_ids.astype(str)
    rows = np.flatnonzero(np.isin(ids, sorted(fed)))
    assert len(rows) == len(fed)
    with_machine = a.recommended_ss[rows]
    without_machine = a.machine_free_ss[rows]
    assert np.all(np.isfinite(without_machine)), "every fed item is sized without the machine too"
    # the machine's stops never lower the buffer, and raise it for the items they fed
    assert np.all(with_machine >= without_machine - 1e-9)
    assert np.mean(with_machine > without_machine + 1e-9) >= 0.5
    # and their explanation names the machine
    table = decided.decisions.items.set_index("item_id")
    for item in fed:
        assert f"machine {machine}" in table.loc[item, "drivers"]
