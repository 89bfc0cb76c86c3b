"""How many images describe a task? Predictions from a few images against those from 512.

``Task.from_images`` summarises a sample of a dataset's images (at most 512, as the meta-tasks the
predictor was trained on). For each bundled image set, the shipped nb201 predictor predicts 300
random cells for the task described by all images (subsampled to 512) and by ``n`` of them (3
random subsamples each): the mean |difference| of the predictions, their highest value and their
correlation with the 512-image ones. ``gennas.surrogates.task.MIN_IMAGES`` comes from this table.

    python experiments/image_task_size.py      # 6-12 s on one core (idle / loaded 2-core machine)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, markdown_table, no_options  # noqa: E402

import gennas  # noqa: E402
from gennas.datasets import load_images  # noqa: E402
from gennas.surrogates.task import IMAGE_SIZE, Task, describe, image_features  # noqa: E402

SIZES = (2, 8, 32, 64, 128, 256)


def main() -> None:
    no_options(__doc__)
    torch.set_num_threads(1)
    predictor = gennas.load_predictor("nb201")
    archs = gennas.load_benchmark("nb201").archs()
    cells = [archs[i] for i in np.random.default_rng(0).choice(len(archs), 300, replace=False)]
    rows = []
    for dataset in ("digits", "mnist"):
        x, y = load_images(dataset, size=IMAGE_SIZE)
        full = predictor.predict(cells, Task.from_images(x, y))[0]
        for n in SIZES:
            stats = []
            for seed in range(3):
                keep = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:n]
                # the descriptor itself, below the MIN_IMAGES check: what a smaller sample would state
                task = Task("images", f"sub{n}-{seed}", descriptor=describe(image_features(x[keep]), y[keep]))
                pred = predictor.predict(cells, task)[0]
                stats.append((np.abs(pred - full).mean(), pred.max(), np.corrcoef(pred, full)[0, 1]))
            s = np.array(stats)
            rows.append({"images": dataset, "n": n, "mean abs diff (points)": s[:, 0].mean(),
                         "max prediction %": s[:, 1].mean(), "correlation": s[:, 2].mean(),
                         "max with 512 %": float(full.max())})
    print(f"Command: `{command_line()}`\n")
    print(markdown_table(rows, digits=3))


if __name__ == "__main__":
    main()
