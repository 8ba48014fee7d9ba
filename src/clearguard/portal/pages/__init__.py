"""The portal's page modules: each has `PAGES` (its rows of the permission table) and `router`.

To add an area: write `pages/<area>.py` with both, its templates under `templates/<area>/`, and add
the module to MODULES below (order = menu order). Nothing else registers a page.
"""

from __future__ import annotations

from types import ModuleType

from clearguard.portal.pages import admin, analyst, auditor, auth, dpo, officer, security, static, trader

MODULES: tuple[ModuleType, ...] = (trader, officer, analyst, auditor, dpo, admin, security, auth, static)
