"""`clearguard detection ...`: rules, scans of event files (and, from the other detection branches,
simulation, evaluation, alerts and triage). The Typer apps come first and stay first: other
branches add their commands below."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

detection_app = typer.Typer(help="Threat detection over staff activity.", no_args_is_help=True)
rules_app = typer.Typer(help="The Sigma rules in force; `rules export` writes them for a SIEM.")
detection_app.add_typer(rules_app, name="rules")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]

# --- rules and scans (branch detection-core) ---------------------------------------------------------

from clearguard.cli_support import console, guarded, load_settings, print_json  # noqa: E402


@rules_app.callback(invoke_without_command=True)
@guarded
def rules_list(ctx: typer.Context, json_output: JsonOpt = False) -> None:
    """List the rules in force: name, kind, alert or notice, condition, window, thresholds."""
    if ctx.invoked_subcommand is not None:
        return
    from clearguard.detection.configured import rule_set

    rules = rule_set(load_settings())
    if json_output:
        print_json({"version": rules.version, "rules": [r.to_dict() for r in rules.rules]})
        return
    from clearguard.detection.ruleset import window_text

    console.print(
        f"rules {rules.version}: {len(rules.rules)} ({sum(r.emits for r in rules.rules)} raise findings)",
        soft_wrap=True,
    )
    for r in rules.rules:
        raises = r.level if r.emits else "-"
        window = f" within {window_text(r.window_s)}" if r.window_s else ""
        console.print(
            f"{r.name:<28} {r.type:<17} {raises:<6} {r.severity:<8} {r.kind:<22} {r.condition or ''}{window}",
            markup=False,
            soft_wrap=True,
        )


@rules_app.command("export")
@guarded
def rules_export(
    target: Annotated[Path, typer.Option("--target", help="an empty or new folder")],
    json_output: JsonOpt = False,
) -> None:
    """Write the rules in force as Sigma YAML files, unchanged, for a SIEM."""
    from clearguard.detection.configured import rule_set
    from clearguard.detection.export import export_rules

    written = export_rules(rule_set(load_settings()), target)
    if json_output:
        print_json({"target": str(target), "files": [str(p) for p in written]})
        return
    console.print(f"{len(written)} rule files written to {target}", soft_wrap=True)


@detection_app.command("scan")
@guarded
def scan(
    events: Annotated[Path, typer.Option("--events", help="activity events, one JSON object per line")],
    locations: Annotated[
        Path | None, typer.Option("--locations", help="CSV cidr,city,country,lat,lon (places of sources)")
    ] = None,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="leave out bad lines instead of refusing")] = False,
    notices: Annotated[bool, typer.Option("--notices/--alerts-only", help="list notices too")] = True,
    json_output: JsonOpt = False,
) -> None:
    """Run the rules alone over an event file and print what they find (alerts and notices)."""
    from clearguard.detection.scan import scan_file

    settings = load_settings()
    result = scan_file(settings, events, locations, skip_bad=skip_bad)
    shown = [f for f in result.findings if notices or f.level == "alert"]
    if json_output:
        print_json(result.to_dict(include_notices=notices))
        return
    for f in shown:
        console.print(
            f"{f.at.strftime('%Y-%m-%dT%H:%M:%SZ')}  {f.level:<6} {f.severity:<8} {f.rule:<26} {f.explanation}",
            markup=False,
            soft_wrap=True,
        )
    skipped = f", {len(result.bad)} bad lines skipped" if result.bad else ""
    console.print(
        f"{result.events} events{skipped}: {result.alerts} alerts, {result.notices} notices",
        markup=False,
        soft_wrap=True,
    )


# --- simulation and evaluation (branch detection-model) ----------------------------------------------

NoiseOpt = Annotated[str, typer.Option("--noise", help="how untidy benign behaviour is: low, normal or high")]


@detection_app.command("simulate")
@guarded
def simulate(
    users: Annotated[int, typer.Option("--users", help="accounts in the population (at least 10)")],
    days: Annotated[int, typer.Option("--days", help="days of activity (more than the 14 baseline days)")],
    out: Annotated[Path, typer.Option("--out", help="folder for events.jsonl, labels.json, locations.csv")],
    seed: Annotated[int, typer.Option("--seed", help="the same seed gives the same files")] = 1,
    noise: NoiseOpt = "normal",
    json_output: JsonOpt = False,
) -> None:
    """Write a simulated administration's activity with injected attacks, and their labels."""
    from clearguard.detection.simulate import simulate as run
    from clearguard.detection.simulate import write_simulation

    summary = write_simulation(run(users, days, seed, noise), out)
    if json_output:
        print_json(summary)
        return
    console.print(
        f"{summary['events']} events of {summary['actors']} accounts over {days} days, "
        f"{summary['scenarios']} scenarios, written to {out}", markup=False, soft_wrap=True,
    )  # fmt: skip


@detection_app.command("evaluate")
@guarded
def evaluate(
    events: Annotated[Path, typer.Option("--events", help="activity events, one JSON object per line")],
    labels: Annotated[Path, typer.Option("--labels", help="the scenarios: a JSON list")],
    locations: Annotated[Path, typer.Option("--locations", help="CSV cidr,city,country,lat,lon")],
    baseline_days: Annotated[
        int, typer.Option("--baseline-days", help="the model is fitted on these first days only")
    ] = 14,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="leave out bad lines instead of refusing")] = False,
    json_output: JsonOpt = False,
) -> None:
    """Replay events through the rules, the anomaly model and deduplication, and score the alerts."""
    from clearguard.cli_support import err_console
    from clearguard.detection.configured import detection_config, detection_timezone, rule_set
    from clearguard.detection.evaluate import evaluate_files

    settings = load_settings()
    config = detection_config(settings)
    result = evaluate_files(
        events, labels, locations, rules=rule_set(settings, config), config=config, baseline_days=baseline_days,
        skip_bad=skip_bad, timezone=detection_timezone(settings),
    )  # fmt: skip
    if result.skipped:
        err_console.print(f"{len(result.skipped)} bad line(s) skipped (first: {result.skipped[0]})",
                          markup=False, soft_wrap=True)  # fmt: skip
    report = result.report
    if json_output:
        print_json(report)
        return
    for name, part in (("rules and model", report), ("rules only", report["rules_only"]),
                       ("model only", report["model_only"])):  # fmt: skip
        console.print(
            f"{name:<16} detected {part['detected']}/{part['scenarios']} ({part['detection_rate']:.1%}), "
            f"{part['false_alerts']} false alerts in {part['user_days']} user-days "
            f"({part['false_alerts_per_1000_user_days']} per 1,000), median time to detect "
            f"{part['median_time_to_detect_s']} s", markup=False, soft_wrap=True,
        )  # fmt: skip


# --- alerts, triage, activity (branch detection-online) ---------------------------------------------

from typing import TYPE_CHECKING  # noqa: E402

if TYPE_CHECKING:
    from clearguard.detection.service import DetectionService
    from clearguard.wiring import Services


def _detection_service(services: Services) -> DetectionService:
    from clearguard.detection.errors import DetectionInputError

    service = services.detection
    if service is None:
        raise DetectionInputError("detection is not configured")
    return service


@detection_app.command("alerts")
@guarded
def alerts_list(
    status: Annotated[
        str | None, typer.Option("--status", help="open | acknowledged | confirmed | false_positive")
    ] = None,
    notices: Annotated[bool, typer.Option("--notices", help="list notices instead of alerts")] = False,
    limit: Annotated[int, typer.Option("--limit", help="at most this many, newest first")] = 200,
    json_output: JsonOpt = False,
) -> None:
    """Alerts (one per incident), newest first, with their status, notes and responses."""
    from clearguard.cli_support import open_services

    with open_services() as services:
        items = _detection_service(services).alerts(status=status, level="notice" if notices else "alert", limit=limit)
    if json_output:
        print_json({"alerts": items})
        return
    for a in items:
        console.print(
            f"{a['id']:>6}  {a['last_at'][:19]}  {a['severity']:<8} {a['status']:<14} {a['rule']:<26} "
            f"{a['explanation']}",
            markup=False,
            soft_wrap=True,
        )
    console.print(f"{len(items)} {'notices' if notices else 'alerts'}", markup=False)


@detection_app.command("triage")
@guarded
def alerts_triage(
    alert_id: Annotated[int, typer.Argument(help="the alert's id (detection alerts)")],
    verdict: Annotated[str, typer.Option("--verdict", help="acknowledge | confirm | false_positive")],
    note: Annotated[str, typer.Option("--note", help="why (kept with the alert and in the audit trail)")],
    json_output: JsonOpt = False,
) -> None:
    """Record a verdict: a false positive suppresses the same pattern; a confirmation takes the
    confirmed responses (revoke sessions, lock) on the actors that did something in the incident."""
    import getpass
    import os

    from clearguard.access.roles import Perm
    from clearguard.cli_support import open_services

    with open_services() as services:
        operator = os.environ.get("CLEARGUARD_OPERATOR") or "cli:" + getpass.getuser()
        services.gate_operator(operator, Perm.DETECTION_TRIAGE)  # a named staff account: its training
        result = _detection_service(services).triage(alert_id, verdict, note, by=operator, role="security")
    if json_output:
        print_json(result)
        return
    taken = [f"{r['action']} {r['actor']}" for r in result["responses"] if r.get("taken")]
    console.print(
        f"alert {result['id']}: {result['status']}" + (f"; responses: {', '.join(taken)}" if taken else ""),
        markup=False,
    )


@detection_app.command("activity")
@guarded
def activity_list(
    actor: Annotated[str | None, typer.Option("--actor", help="one staff account")] = None,
    limit: Annotated[int, typer.Option("--limit", help="at most this many, newest first")] = 200,
    json_output: JsonOpt = False,
) -> None:
    """The activity store, newest first (parties and records as keyed references)."""
    from clearguard.cli_support import open_services

    with open_services() as services:
        items = _detection_service(services).activity(actor=actor, limit=limit)
    if json_output:
        print_json({"activity": items})
        return
    for a in items:
        console.print(
            f"{a['at'][:19]}  {a['actor']:<20} {a['action']:<20} {a['outcome']:<8} {a['source_ip'] or '-':<15} "
            f"{a['count']}",
            markup=False,
            soft_wrap=True,
        )
