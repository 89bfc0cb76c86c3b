"""Graph generators (discrete diffusion, graph VAE) that sample ArchGraphs of a space."""
