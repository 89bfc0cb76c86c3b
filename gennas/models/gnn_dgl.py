"""DGL twin of :class:`gennas.models.gnn.DAGEncoder` (optional backend, ``pip install 'gennas[dgl]'``).

The same bidirectional GIN with ``dgl.nn.GINConv`` in place of PyG's. Parameters carry the
same shapes and, apart from the GIN MLP's attribute name (DGL: ``apply_func``, PyG: ``nn``),
the same names, so :meth:`DGLDAGEncoder.load_pyg_state_dict` loads weights trained with the
PyG encoder and both backends compute the same embeddings (tested in tests/test_predictor.py).
"""

from __future__ import annotations

import functools

import torch

from gennas.errors import MissingDependency, install_hint
from gennas.models.gnn import BidirectionalGINLayers, EncoderConfig
from gennas.spaces import SearchSpace


def _dgl():
    try:
        import dgl
    except ImportError as exc:  # optional extra: say how to get it
        raise MissingDependency(f"the DGL backend needs DGL (dgl==1.1.3): {install_hint('dgl')}") from exc
    return dgl


def pyg_to_dgl_keys(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename a PyG encoder state dict's GIN MLP keys (``convs.i.nn.``) to DGL's (``convs.i.apply_func.``)."""
    return {_rename(k, ".nn.", ".apply_func."): v for k, v in state.items()}


def dgl_to_pyg_keys(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Inverse of :func:`pyg_to_dgl_keys`."""
    return {_rename(k, ".apply_func.", ".nn."): v for k, v in state.items()}


def _rename(key: str, old: str, new: str) -> str:
    return key.replace(old, new, 1) if "convs." in key else key


@functools.lru_cache(maxsize=32)
def _batched_graph(space_name: str, batch_size: int):
    """``batch_size`` copies of the space's graph as one DGL graph (cached: the topology is fixed)."""
    from gennas.models.gnn import batched_edges
    from gennas.spaces import load_space

    dgl = _dgl()
    space = load_space(space_name)
    edge_index, _ = batched_edges(space, batch_size)
    return dgl.graph((edge_index[0], edge_index[1]), num_nodes=batch_size * space.num_nodes)


class DGLDAGEncoder(BidirectionalGINLayers):
    """Bidirectional GIN over a DAG with DGL. ``encode_features(space, x (B, N, V)) -> (B, 2*hidden)``."""

    def __init__(self, vocab_size: int, max_nodes: int, config: EncoderConfig | None = None) -> None:
        GINConv = _dgl().nn.pytorch.GINConv
        super().__init__(vocab_size, max_nodes, config, lambda mlp: GINConv(mlp, "sum", learn_eps=True))

    def forward(self, graph, x: torch.Tensor, num_graphs: int) -> torch.Tensor:
        """``graph``: ``num_graphs`` equal-size DAGs batched; ``x (B*N, V)`` -> ``(B, out_dim)``."""
        dgl = _dgl()
        n = x.shape[0] // num_graphs
        pos = torch.arange(n, device=x.device).repeat(num_graphs)
        h = self.embed(x) + self.position(pos)
        reverse = dgl.reverse(graph)
        for fwd, bwd, mix, norm in zip(self.forward_convs, self.backward_convs, self.mix, self.norms):
            update = mix(torch.cat([fwd(graph, h), bwd(reverse, h)], dim=-1))
            h = norm(h + self.dropout(torch.relu(update)))
        h = h.view(num_graphs, n, -1)
        # mean pooling and sum pooling / n coincide for equal-size graphs; both kept to mirror PyG
        return torch.cat([h.mean(1), h.sum(1) / n], dim=-1)

    def encode_features(self, space: SearchSpace, node_features: torch.Tensor) -> torch.Tensor:
        """Embed a batch given as dense node features ``(B, N, V)`` -> ``(B, out_dim)``."""
        b, n, v = node_features.shape
        graph = _batched_graph(space.name, b).to(node_features.device)
        return self(graph, node_features.reshape(b * n, v), b)

    def load_pyg_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Load the weights of a :class:`gennas.models.gnn.DAGEncoder`."""
        self.load_state_dict(pyg_to_dgl_keys(state))
