"""Torch modules: the networks architectures build into (``cell_net``, ``mobilenet``, their
supernets, shared ``layers``) and the graph encoders the surrogates use (``gnn``, ``gnn_dgl``)."""
