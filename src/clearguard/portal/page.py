"""A row of the portal's permission table (clearguard.portal.permissions joins the rows)."""

from __future__ import annotations

from dataclasses import dataclass

from clearguard.access.roles import known_permissions


@dataclass(frozen=True, slots=True)
class Page:
    path: str  # FastAPI path, e.g. "/declarations/{mrn}"
    method: str  # "GET" or "POST"
    action: str  # "view" or the verb of a form: "lodge", "amend", "decide", "triage", ...
    permission: str  # a clearguard.access.roles.Perm
    menu: str | None = None  # menu label when this GET page appears in the menu
    sample: dict[str, str] | None = None  # path params for the generated e2e matrix, if any
    heading: str | None = None  # the page's <h1>, which the e2e matrix expects when allowed

    def __post_init__(self) -> None:
        if self.method not in ("GET", "POST"):
            raise ValueError(f"{self.path}: method must be GET or POST, not {self.method!r}")
        if self.permission not in known_permissions():
            raise ValueError(f"{self.path}: unknown permission {self.permission!r}")
        if self.menu is not None and self.method != "GET":
            raise ValueError(f"{self.path}: only GET pages appear in menus")
