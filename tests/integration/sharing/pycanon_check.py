"""Run by .venv-pycanon's Python (not the project's): pyCANON's k and l of a released CSV.

    python pycanon_check.py FILE.csv SENSITIVE QI [QI ...]   ->   {"k": ..., "l": ...} on stdout

Every cell is read as text, as the release wrote it (no NaN for `unknown` or an empty cell)."""

from __future__ import annotations

import json
import sys

import pandas as pd
from pycanon import anonymity

path, sensitive, *quasi = sys.argv[1:]
data = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
print(
    json.dumps(
        {
            "k": int(anonymity.k_anonymity(data, quasi)),
            "l": int(anonymity.l_diversity(data, quasi, [sensitive])),
            "rows": len(data),
        }
    )
)
