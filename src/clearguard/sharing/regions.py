"""ISO 3166-1 alpha-2 countries by continent (UN M49 regions, Americas as one), for generalising
places one step above the country: a country alone is often rare enough to single a trader out.

Pure data. EU customs codes that are not ISO countries (XI Northern Ireland, XU the United Kingdom
outside it, XK Kosovo, EU) count as Europe."""

from __future__ import annotations

_BY_CONTINENT: dict[str, str] = {
    "Africa": "DZ AO BJ BW BF BI CV CM CF TD KM CG CD CI DJ EG GQ ER SZ ET GA GM GH GN GW KE LS LR LY MG MW ML "
    "MR MU YT MA MZ NA NE NG RE RW SH ST SN SC SL SO ZA SS SD TZ TG TN UG EH ZM ZW IO TF",
    "Americas": "AI AG AR AW BS BB BZ BM BO BQ BV BR CA KY CL CO CR CU CW DM DO EC SV FK GF GL GD GP GT GY HT HN "
    "JM MQ MX MS NI PA PY PE PR BL KN LC MF PM VC SX GS SR TT TC US UM UY VE VG VI",
    "Asia": "AF AM AZ BH BD BT BN KH CN CY GE HK IN ID IR IQ IL JP JO KZ KW KG LA LB MO MY MV MN MM NP KP OM PK "
    "PS PH QA SA SG KR LK SY TW TJ TH TL TR TM AE UZ VN YE",
    "Europe": "AX AL AD AT BY BE BA BG HR CZ DK EE FO FI FR DE GI GR GG HU IS IE IM IT JE LV LI LT LU MT MD MC ME "
    "NL MK NO PL PT RO RU SM RS SK SI ES SJ SE CH UA GB VA XI XU XK EU",
    "Oceania": "AS AU CK FJ PF GU HM KI MH FM NR NC NZ NU NF MP PW PG PN WS SB TK TO TV VU WF CC CX",
    "Antarctica": "AQ",
}

CONTINENT: dict[str, str] = {code: name for name, codes in _BY_CONTINENT.items() for code in codes.split()}
OTHER = "other"


def continent_of(country: str) -> str:
    """The continent of an alpha-2 code; `other` for a code outside the table."""
    return CONTINENT.get(country.upper(), OTHER)
