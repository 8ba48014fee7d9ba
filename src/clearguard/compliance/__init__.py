"""Automated compliance: rule engine over versioned rule packs, and the reference data it checks against."""
