"""Declarations: the H1 and H7 models, MRNs, tables and the lifecycle service (the one way in)."""
