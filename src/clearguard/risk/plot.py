"""Precision and recall against the share of lines inspected, model beside random, as a PNG."""

from __future__ import annotations

from pathlib import Path

from clearguard.risk.metrics import FloatArray, curve


def plot_curves(path: Path, scores: FloatArray, labels: FloatArray, *, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers
    import matplotlib.pyplot as plt

    points = curve(scores, labels)
    base = float(labels.mean()) if len(labels) else 0.0
    figure, axis = plt.subplots(figsize=(7, 4.5), dpi=120)
    axis.plot(points[:, 0], points[:, 1], label="precision (model)", color="tab:red")
    axis.plot(points[:, 0], points[:, 2], label="recall (model)", color="tab:blue")
    axis.plot(points[:, 0], [base] * len(points), "--", label="precision (random)", color="tab:red", alpha=0.5)
    axis.plot(points[:, 0], points[:, 0], "--", label="recall (random)", color="tab:blue", alpha=0.5)
    for share in (0.01, 0.02, 0.05, 0.10):
        axis.axvline(share, color="grey", linewidth=0.5, alpha=0.5)
    axis.set_xlabel("share of lines inspected")
    axis.set_ylabel("precision / recall")
    axis.set_ylim(0, 1.02)
    axis.set_title(title)
    axis.legend(loc="center right")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
