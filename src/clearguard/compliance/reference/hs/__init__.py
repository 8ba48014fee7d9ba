"""HS 2022 nomenclature data files (see SOURCE.md); a package so the files ship as package data."""
