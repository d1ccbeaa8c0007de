"""The example plant: a seeded generator of canonical data with planted policy mistakes.

`generate_plant(out_dir, seed=DEFAULT_SEED)` writes the seven canonical CSV tables and
truth.json; `read_truth(out_dir)` reads the ground truth back. See docs/example-plant.md.
"""

from bufferwise.demo.plant import DEFAULT_SEED, GENERATOR_VERSION, PLANTING_RULES, generate_plant
from bufferwise.demo.truth import (
    DEMAND_CLASSES,
    MISTAKE_CODES,
    BufferTruth,
    ItemTruth,
    MachineTruth,
    PlantTruth,
    SupplierTruth,
    read_truth,
)

__all__ = [
    "DEFAULT_SEED",
    "DEMAND_CLASSES",
    "GENERATOR_VERSION",
    "MISTAKE_CODES",
    "PLANTING_RULES",
    "BufferTruth",
    "ItemTruth",
    "MachineTruth",
    "PlantTruth",
    "SupplierTruth",
    "generate_plant",
    "read_truth",
]
