"""A subject access report rendered for the subject: JSON, HTML (Jinja2, autoescaped) or PDF (fpdf2,
with the DejaVu Sans font that matplotlib ships, so every script a name may be written in prints)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from clearguard.errors import InputError

FORMATS: Final = ("json", "html", "pdf")
MEDIA_TYPES: Final = {"json": "application/json", "html": "text/html; charset=utf-8", "pdf": "application/pdf"}


def check_format(output: str) -> str:
    if output not in FORMATS:
        raise InputError(f"format: one of {', '.join(FORMATS)}", field="format")
    return output


def render(report: dict[str, Any], output: str) -> bytes:
    check_format(output)
    if output == "json":
        return json.dumps(report, indent=2, ensure_ascii=False, default=str).encode() + b"\n"
    if output == "html":
        return html(report).encode()
    return pdf(report)


def html(report: dict[str, Any]) -> str:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("clearguard.privacy", "templates"), autoescape=True, undefined=StrictUndefined
    )
    env.undefined = StrictUndefined
    return env.get_template("subject_access.html").render(report=_lenient(report))


def _lenient(report: dict[str, Any]) -> dict[str, Any]:
    """Retention rows and holds carry the members the port gives; the template reads a fixed set."""
    rows = [
        {k: r.get(k) for k in ("mrn", "policy", "retention", "jurisdiction", "period", "disposal_due", "legal_basis",
                               "reason")} | {"held": r.get("held", "")}
        for r in report["retention"]
    ]  # fmt: skip
    holds = [{k: h.get(k) for k in ("id", "scope", "case", "reason", "owner", "review")} for h in report["holds"]]
    return report | {"retention": rows, "holds": holds}


def _font() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


def pdf(report: dict[str, Any]) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import WrapMode, XPos, YPos

    doc = FPDF(format="A4")
    doc.set_auto_page_break(auto=True, margin=15)
    doc.add_font("DejaVu", "", str(_font()))
    doc.add_page()

    def text(line: str, size: int = 9) -> None:
        doc.set_font("DejaVu", size=size)
        doc.multi_cell(0, size * 0.5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode=WrapMode.CHAR)

    def heading(line: str) -> None:
        doc.ln(2)
        text(line, 13)

    text("Subject access report (GDPR Art. 15)", 16)
    c = report["controller"]
    text(f"Controller: {c['name']} ({c['contact']}); data protection officer: {c['dpo']}")
    text(f"Generated {report['generated_at']} by {report['generated_by']}")
    heading("Subject")
    for key, value in report["subject"].items():
        text(f"{key}: {value if value is not None else ''}")
    heading(f"Declarations held ({len(report['declarations'])})")
    for d in report["declarations"]:
        text(f"{d['mrn']} ({d['type']}, office {d['office']}, {d['status']}), lodged {d['lodged_at']}, "
             f"as {', '.join(d['roles'])}", 10)  # fmt: skip
        for v in d["versions"]:
            text(f"Version {v['version']} ({v['stored_at']})")
            if v["withheld_parties"]:
                text(f"Withheld (other parties' data): {', '.join(v['withheld_parties'])}")
            text(json.dumps(v["document"], indent=1, ensure_ascii=False), 7)
    heading("Purposes and legal bases")
    for p in report["purposes"]:
        text(f"{p['purpose']}: {p['description']}")
        for b in p["legal_bases"]:
            text(f"    {b['description']}", 8)
    heading("Recipients")
    for category, roles in report["recipients"]["roles"].items():
        text(f"{category}: " + "; ".join(f"{r['role']} ({r['scope']})" for r in roles))
    text(f"Partner administrations: {', '.join(report['recipients']['partners']) or 'none'}")
    heading("Retention")
    for r in report["retention"]:
        text(", ".join(f"{k}: {v}" for k, v in r.items()))
    heading("Legal holds")
    for h in report["holds"] or [{"none": ""}]:
        text(", ".join(f"{k}: {v}" for k, v in h.items()))
    heading(f"Accesses ({len(report['accesses'])})")
    for a in report["accesses"]:
        text(f"{a['at']} {a['actor']} ({a['role']}) {a['action']} {a['record_id'] or ''} from {a['source'] or '?'}"
             + (f"; justification: {a['justification']}" if a["justification"] else ""), 8)  # fmt: skip
    return bytes(doc.output())
