"""DetectionConfig: every threshold the shipped rules use, with issue 16's defaults.

The shipped Sigma rules carry these defaults in their YAML (a test keeps the two equal); a rule
names the settings that override its numbers in its `clearguard` attribute, so an administration
changes a threshold in its settings without editing a rule file.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DetectionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # brute force (Wazuh: 8 failures in 120 s), on one account and from one source
    brute_force_failures: int = Field(default=8, ge=2, description="failed logins that make a brute force")
    brute_force_window_s: int = Field(default=120, ge=1, description="...within this many seconds")
    # password spraying: failures on more than 5 accounts from one source in 10 minutes
    spraying_accounts: int = Field(
        default=5, ge=1, description="spraying when failures hit MORE than this many accounts"
    )
    spraying_window_s: int = Field(default=600, ge=1)
    # failures followed by a success: one is a notice; this many then a success is an alert
    failures_then_success_failures: int = Field(default=5, ge=2)
    failures_then_success_window_s: int = Field(default=600, ge=1)
    # impossible travel
    impossible_travel_kmh: float = Field(default=900.0, gt=0, description="speed between two sources")
    impossible_travel_min_km: float = Field(
        default=100.0, ge=0, description="closer sources are never impossible travel (geolocation is coarse)"
    )
    # bulk reads or exports outside the actor's working hours
    off_hours_bulk_records: int = Field(default=150, ge=1, description="records exported off hours")
    off_hours_bulk_reads: int = Field(default=200, ge=1, description="distinct declarations read off hours")
    off_hours_bulk_window_s: int = Field(default=3600, ge=1)
    off_hours_margin_h: float = Field(
        default=2.0, ge=0, description="hours outside the usual ones before activity counts as off hours"
    )
    # mass export: records exported (count summed) or export events
    mass_export_records: int = Field(default=1000, ge=1, description="records exported in a day")
    mass_export_events: int = Field(default=30, ge=1)
    mass_export_window_s: int = Field(default=3600, ge=1)
    mass_export_growth: float = Field(
        default=3.0, ge=1, description="...and today's exports at least this many times the account's busiest day"
    )
    # break-glass followed by reads
    breakglass_reads: int = Field(default=15, ge=1, description="reads after a break-glass that make an alert")
    breakglass_window_s: int = Field(default=3600, ge=1)
    # privilege change followed by use of the new rights
    privilege_use_window_s: int = Field(default=8 * 3600, ge=1)
    # an officer reading many distinct parties or records in a short time
    distinct_parties: int = Field(default=40, ge=1)
    distinct_records: int = Field(default=150, ge=1)
    distinct_window_s: int = Field(default=3600, ge=1)
    # deduplication: a burst after this much quiet is a new incident
    incident_gap_s: int = Field(default=3600, ge=1)
    # usual hours: learned once an actor has this many working days of history
    usual_hours_min_days: int = Field(default=10, ge=1)
    usual_hours_share: float = Field(
        default=0.1, gt=0, le=1, description="an hour is usual when active on this share of days"
    )
    default_workday_start_hour: int = Field(default=7, ge=0, le=23)
    default_workday_end_hour: int = Field(default=19, ge=1, le=24)
