"""Incoterms 2020 (ICC): the eleven rules."""

from __future__ import annotations

# Any mode of transport, then sea and inland waterway only.
INCOTERMS_2020 = frozenset({"EXW", "FCA", "CPT", "CIP", "DAP", "DPU", "DDP", "FAS", "FOB", "CFR", "CIF"})
