"""The dense GIN encoder against PyG's sparse GINConv over a batched edge_index: same function, CPU time.

gennas/models/gnn.py runs ``DenseGINConv`` on the space's one adjacency. This script rebuilds the
sparse form (``GINConv`` on ``B`` copies of the graph, global mean/add pooling), loads the dense
encoder's weights into it (the parameter names are the same), checks that both embed the same
batch alike, and times one forward pass of each at several batch sizes (one torch thread, CPU
time per call, median of 5 repeats of 100 calls).

    python experiments/encoder_speed.py          # ~30 s
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch_geometric.nn import GINConv, global_add_pool, global_mean_pool  # noqa: E402

torch.set_num_threads(1)

from _common import command_line, no_options  # noqa: E402
from gennas import load_space  # noqa: E402
from gennas.models.gnn import (BidirectionalGINLayers, DAGEncoder, EncoderConfig,  # noqa: E402
                               archs_to_node_features, batched_edges)


class SparseEncoder(BidirectionalGINLayers):
    """The encoder as it was before issue 12: GINConv message passing over a batched edge_index."""

    def __init__(self, vocab_size: int, max_nodes: int, config: EncoderConfig) -> None:
        super().__init__(vocab_size, max_nodes, config, lambda mlp: GINConv(mlp, train_eps=True))

    def encode_features(self, space, x: torch.Tensor) -> torch.Tensor:
        b, n, v = x.shape
        edge_index, batch = batched_edges(space, b)
        h = self.embed(x.reshape(b * n, v)) + self.position(torch.arange(n).repeat(b))
        flipped = edge_index.flip(0)
        for fwd, bwd, mix, norm in zip(self.forward_convs, self.backward_convs, self.mix, self.norms):
            h = norm(h + torch.relu(mix(torch.cat([fwd(h, edge_index), bwd(h, flipped)], dim=-1))))
        return torch.cat([global_mean_pool(h, batch, b), global_add_pool(h, batch, b) / n], dim=-1)


def cpu_ms(fn, calls: int = 100, repeats: int = 5) -> float:
    """Median CPU milliseconds per call."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(calls):
            fn()
        times.append((time.process_time() - start) / calls * 1e3)
    return statistics.median(times)


def main() -> None:
    no_options(__doc__)
    print(command_line())
    space = load_space("nb201")
    config = EncoderConfig(hidden=32, layers=3)  # the predictor's encoder size
    dense = DAGEncoder(len(space.node_vocab), space.num_nodes, config)
    sparse = SparseEncoder(len(space.node_vocab), space.num_nodes, config)
    sparse.load_state_dict(dense.state_dict())
    rng = np.random.default_rng(0)
    x = archs_to_node_features(space, [space.sample(rng) for _ in range(128)])
    with torch.no_grad():
        gap = (dense.encode_features(space, x) - sparse.encode_features(space, x)).abs().max().item()
    print(f"\nmax |dense - sparse| over 128 cells: {gap:.2e}\n")
    print("| batch | sparse GINConv ms | dense ms |")
    print("|---|---|---|")
    for b in (1, 16, 128):
        xb = x[:b]
        print(f"| {b} | {cpu_ms(lambda: sparse.encode_features(space, xb)):.2f} | "
              f"{cpu_ms(lambda: dense.encode_features(space, xb)):.2f} |", flush=True)


if __name__ == "__main__":
    main()
