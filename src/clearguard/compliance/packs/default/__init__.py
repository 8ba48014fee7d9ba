"""The default rule pack; a package only so its YAML versions ship as package data."""
