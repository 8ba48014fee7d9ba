"""Traders and brokers: lodge (JSON upload or form, findings beside each field), amend, the list of
their declarations, and a declaration's page with its versions, transitions and ledger receipt.

Reads and writes go through the same DeclarationGate, the same redaction
(clearguard.declarations.views) and the same service calls as the API's routes, so each page view of
a declaration is an audited read like an API read, and a broker lodges only for mandated traders.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from clearguard.access import Action
from clearguard.access.principal import Principal
from clearguard.access.roles import Perm, Role
from clearguard.api.security import source_of
from clearguard.declarations import DeclarationGate, ListFilter, actor_of, declaration_summaries, declaration_view
from clearguard.declarations.drafts import DraftService, DraftSummary
from clearguard.declarations.lifecycle import Status
from clearguard.declarations.parse import parse_json
from clearguard.errors import ClearGuardError, Forbidden, InputError, ValidationFailed
from clearguard.portal import declaration_form as form
from clearguard.portal.guard import PageRoute, page_guard
from clearguard.portal.page import Page
from clearguard.portal.state import portal_of
from clearguard.portal.templating import redirect, render

# `sample` values "demo:<file>" name the demo declaration `clearguard init` lodges from that file;
# the e2e matrix resolves them to its MRN.
DEMO_H1 = {"mrn": "demo:h1-import.json"}
PAGES: tuple[Page, ...] = (
    Page("/declarations", "GET", "view", Perm.DECLARATIONS_READ, menu="Declarations", heading="Declarations"),
    Page("/declarations/new", "GET", "view", Perm.DECLARATIONS_LODGE, menu="Lodge", heading="Lodge a declaration"),
    Page("/declarations", "POST", "lodge", Perm.DECLARATIONS_LODGE),
    Page("/declarations/{mrn}", "GET", "view", Perm.DECLARATIONS_READ, sample=DEMO_H1, heading="Declaration"),
    Page("/declarations/{mrn}/amend", "GET", "view", Perm.DECLARATIONS_AMEND, sample=DEMO_H1, heading="Amend"),
    Page("/declarations/{mrn}/amendments", "POST", "amend", Perm.DECLARATIONS_AMEND),
    Page("/drafts", "GET", "view", Perm.DECLARATIONS_LODGE, menu="Drafts", heading="Drafts"),
    # A draft is its owner's alone (anyone else: 404), so the matrix has no sample to open for every role.
    Page("/drafts/{draft_id}", "GET", "view", Perm.DECLARATIONS_LODGE, heading="Draft"),
    Page("/drafts/{draft_id}/lodge", "POST", "lodge", Perm.DECLARATIONS_LODGE),
    Page("/drafts/{draft_id}/delete", "POST", "delete", Perm.DECLARATIONS_LODGE),
)
router = APIRouter(route_class=PageRoute, include_in_schema=False)

Reader = Annotated[Principal, page_guard(Perm.DECLARATIONS_READ)]
Lodger = Annotated[Principal, page_guard(Perm.DECLARATIONS_LODGE)]
Amender = Annotated[Principal, page_guard(Perm.DECLARATIONS_AMEND)]
Mrn = Annotated[str, Path(min_length=18, max_length=18, pattern=r"^[0-9A-Za-z]{18}$")]
DraftId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
_DECLARANTS = frozenset({Role.TRADER, Role.BROKER})


def gate_of(request: Request) -> DeclarationGate:
    gate: DeclarationGate = request.app.state.gate
    return gate


def today_of(request: Request) -> date:
    return portal_of(request).sessions.identity.clock.now().date()


STATUSES = tuple(s.value for s in Status)


@router.get("/declarations")
def declarations(
    request: Request,
    principal: Reader,
    status: Annotated[str | None, Query(max_length=16, pattern=r"^[a-z_]*$")] = None,
) -> Response:
    if status and status not in STATUSES:
        raise InputError(f"status: one of {', '.join(STATUSES)}", field="status")
    items, next_cursor = declaration_summaries(
        gate_of(request),
        principal,
        today_of(request),
        ListFilter(status=status or None),
        limit=100,
        cursor=None,
        source=source_of(request),
    )
    context = {"items": items, "next_cursor": next_cursor, "statuses": STATUSES, "status": status or ""}
    # The filter asks htmx for the table alone: one block of the same template (jinja2-fragments).
    block = "results" if request.headers.get("hx-target") == "results" else None
    return render(request, "trader/list.html", context, block=block)


# ------------------------------------------------------------------------------------------ lodging
def _form_page(
    request: Request,
    principal: Principal,
    values: dict[str, str],
    findings: list[dict[str, Any]],
    *,
    items: int | None = None,
    upload_error: str | None = None,
    draft: dict[str, str] | None = None,
) -> Response:
    count = items or form.item_count(values)
    beside, elsewhere = form.findings_by_field(findings, count)
    context = {
        "groups": form.groups(count),
        "values": values,
        "beside": beside,
        "elsewhere": elsewhere,
        "findings": findings,
        "items": count,
        "upload_error": upload_error,
        "mandates": sorted(principal.mandated_parties(today_of(request))),
        "draft": draft,  # {"id", "title", "updated"} on a draft's page
    }
    return render(request, "trader/lodge.html", context)


@router.get("/declarations/new")
def new_declaration(
    request: Request, principal: Lodger, items: Annotated[int, Query(ge=1, le=form.MAX_ITEMS)] = 1
) -> Response:
    values = {"/declarant/eori": principal.party_eori} if principal.role is Role.TRADER and principal.party_eori else {}
    return _form_page(request, principal, values, [], items=items)


def _findings_of(exc: ClearGuardError) -> list[dict[str, Any]]:
    found = exc.extra.get("findings")
    if isinstance(found, list) and found:
        return [f for f in found if isinstance(f, dict)]
    return [{"rule_id": exc.slug, "severity": "error", "pointer": exc.field or "", "message": str(exc)}]


async def _lodge_doc(request: Request, principal: Principal, doc: dict[str, Any]) -> str:
    """Lodges like the API's POST /api/v1/declarations?receipt=true; returns the MRN."""
    gate = gate_of(request)
    try:
        gate.check_lodge(principal, doc, today_of(request))
    except Forbidden as exc:
        # A broker without a mandate from this declarant: said beside the declarant's EORI.
        raise ValidationFailed(str(exc), field="/declarant/eori") from None
    actor = actor_of(principal, source_of(request))
    result = await run_in_threadpool(gate.declarations.lodge, doc, actor, receipt=True)
    return result.mrn


@router.post("/declarations")
async def lodge(request: Request, principal: Lodger) -> Response:
    submitted: FormData = await request.form()
    upload = submitted.get("file")
    values = {k: v for k, v in submitted.items() if k.startswith("/") and isinstance(v, str)}
    draft_id = submitted.get("draft_id")
    draft_id = draft_id if isinstance(draft_id, str) and draft_id else None
    if isinstance(upload, UploadFile) and upload.filename:
        limit = portal_of(request).settings.max_request_bytes
        raw = await upload.read(limit + 1)
        try:
            doc = parse_json(raw, max_bytes=limit, source=upload.filename[:80])
        except InputError as exc:
            return _form_page(request, principal, {}, [], upload_error=str(exc))
        values = form.values_of(doc)
    else:
        if submitted.get("add_item"):
            draft = _draft_context(request, principal, draft_id) if draft_id else None
            return _form_page(request, principal, values, [], items=form.item_count(values) + 1, draft=draft)
        doc = form.document(values)
    if submitted.get("save_draft"):
        # Saved as it is, complete or not: rules run when it is lodged.
        saved = await _save_draft(request, principal, doc, draft_id)
        return redirect(request, f"/drafts/{saved}?saved=1")
    try:
        mrn = await _lodge_doc(request, principal, doc)
    except (ValidationFailed, InputError) as exc:
        # Nothing was stored: the service refuses before its transaction. The form comes back with
        # 200 (a 4xx document is a console error in browsers, and this is the form, working).
        draft = _draft_context(request, principal, draft_id) if draft_id else None
        return _form_page(request, principal, values, _findings_of(exc), draft=draft)
    if draft_id is not None:
        # Lodged from a draft's (edited) form: the draft has become the declaration.
        await run_in_threadpool(drafts_of(request).delete, actor_of(principal, source_of(request)), draft_id)
    return redirect(request, f"/declarations/{mrn}?lodged=1")


# ------------------------------------------------------------------------------------------ drafts
def drafts_of(request: Request) -> DraftService:
    drafts = portal_of(request).services.drafts
    if drafts is None:  # only where a test wires services by hand
        raise RuntimeError("drafts are not wired")
    return drafts


async def _save_draft(request: Request, principal: Principal, doc: dict[str, Any], draft_id: str | None) -> str:
    declarant = gate_of(request).draft_declarant(principal, doc, today_of(request))
    actor = actor_of(principal, source_of(request))
    saved = await run_in_threadpool(drafts_of(request).save, actor, doc, draft_id=draft_id, declarant=declarant)
    return saved.id


def _context_of(summary: DraftSummary) -> dict[str, str]:
    return {"id": summary.id, "title": summary.title, "updated": summary.updated_at.isoformat()[:16].replace("T", " ")}


def _draft_context(request: Request, principal: Principal, draft_id: str) -> dict[str, str]:
    return _context_of(drafts_of(request).get(principal.username, draft_id).summary)


@router.get("/drafts")
def drafts(request: Request, principal: Lodger) -> Response:
    return render(request, "trader/drafts.html", {"items": drafts_of(request).list(principal.username)})


@router.get("/drafts/{draft_id}")
def draft_page(request: Request, principal: Lodger, draft_id: DraftId, saved: Annotated[int, Query()] = 0) -> Response:
    draft = drafts_of(request).get(principal.username, draft_id)
    context = _context_of(draft.summary)
    if saved:
        context["saved"] = "1"
    return _form_page(request, principal, form.values_of(draft.document), [], draft=context)


@router.post("/drafts/{draft_id}/lodge")
async def lodge_draft(request: Request, principal: Lodger, draft_id: DraftId) -> Response:
    gate = gate_of(request)
    today = today_of(request)

    def check(doc: dict[str, Any]) -> None:
        try:
            gate.check_lodge(principal, doc, today)
        except Forbidden as exc:
            raise ValidationFailed(str(exc), field="/declarant/eori") from None

    actor = actor_of(principal, source_of(request))
    try:
        result = await run_in_threadpool(
            drafts_of(request).lodge,
            actor,
            draft_id,
            check=check,
            lodge=lambda doc, who: gate.declarations.lodge(doc, who, receipt=True),
        )
    except (ValidationFailed, InputError) as exc:
        # The draft stays as it was; its page shows what to fix.
        draft = drafts_of(request).get(principal.username, draft_id)
        context = _context_of(draft.summary)
        return _form_page(request, principal, form.values_of(draft.document), _findings_of(exc), draft=context)
    return redirect(request, f"/declarations/{result.mrn}?lodged=1")


@router.post("/drafts/{draft_id}/delete")
async def delete_draft(request: Request, principal: Lodger, draft_id: DraftId) -> Response:
    actor = actor_of(principal, source_of(request))
    await run_in_threadpool(drafts_of(request).delete, actor, draft_id)
    return redirect(request, "/drafts")


# ------------------------------------------------------------------------------------------ one declaration
def _rows(node: Any, at: str = "") -> list[tuple[str, str]]:
    """A document as (JSON pointer, value) rows, for reading."""
    if isinstance(node, dict):
        return [row for key, value in node.items() for row in _rows(value, f"{at}/{key}")]
    if isinstance(node, list):
        return [row for i, value in enumerate(node) for row in _rows(value, f"{at}/{i}")]
    return [(at, "" if node is None else str(node))]


@router.get("/declarations/{mrn}")
def declaration(request: Request, principal: Reader, mrn: Mrn, lodged: Annotated[int, Query()] = 0) -> Response:
    gate = gate_of(request)
    body: dict[str, Any] = declaration_view(
        gate, principal, mrn, today_of(request), source=source_of(request), justification=None
    )
    receipt: dict[str, Any] | None = None
    receipt_error: str | None = None
    try:
        receipt = gate.declarations.receipt_for(body["mrn"])
    except ClearGuardError as exc:
        receipt_error = str(exc)
    # Amendments add versions and never overwrite: versions 1..current all exist.
    versions = list(range(1, int(body["version"]) + 1))
    context = {
        "d": body,
        "rows": _rows(body.get("document") or {}),
        "versions": versions,
        "receipt": receipt,
        "receipt_json": json.dumps(receipt) if receipt else "",
        "receipt_error": receipt_error,
        "lodged": bool(lodged),
        "can_amend": principal.role in _DECLARANTS and body["status"] not in ("released", "rejected", "invalidated"),
    }
    return render(request, "trader/declaration.html", context)


# ------------------------------------------------------------------------------------------ amendments
def _amend_page(request: Request, mrn: str, text: str, reason: str, findings: list[dict[str, Any]]) -> Response:
    context = {"mrn": mrn, "text": text, "reason": reason, "findings": findings}
    return render(request, "trader/amend.html", context)


@router.get("/declarations/{mrn}/amend")
def amend_page(request: Request, principal: Amender, mrn: Mrn) -> Response:
    # The read decides who may see the form (404 for a record not theirs); the POST decides whether
    # the declaration may be amended now (its status), as the API does.
    gate = gate_of(request)
    body = declaration_view(gate, principal, mrn, today_of(request), source=source_of(request), justification=None)
    text = json.dumps(body.get("document") or {}, indent=2, ensure_ascii=False)
    return _amend_page(request, body["mrn"], text, "", [])


@router.post("/declarations/{mrn}/amendments")
async def amend(request: Request, principal: Amender, mrn: Mrn) -> Response:
    submitted = await request.form()
    text = submitted.get("declaration")
    reason = submitted.get("reason")
    text = text if isinstance(text, str) else ""
    reason = reason if isinstance(reason, str) else ""
    gate = gate_of(request)
    today = today_of(request)
    mrn = mrn.upper()
    gate.check_action(principal, mrn, Action.AMEND, today)
    try:
        if not reason.strip() or len(reason) > 2000:
            raise InputError("reason: an amendment needs a reason (1 to 2000 characters)", field="/reason")
        doc = parse_json(text, max_bytes=portal_of(request).settings.max_request_bytes, source="declaration")
        try:
            gate.check_lodge(principal, doc, today)
        except Forbidden as exc:
            raise ValidationFailed(str(exc), field="/declarant/eori") from None
        actor = actor_of(principal, source_of(request))
        await run_in_threadpool(gate.declarations.amend, mrn, doc, actor, reason=reason)
    except (ValidationFailed, InputError) as exc:
        return _amend_page(request, mrn, text, reason, _findings_of(exc))
    return redirect(request, f"/declarations/{mrn}")
