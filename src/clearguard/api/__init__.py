"""Shared REST API plumbing: problem+json errors, hardening middleware, the principal dependency,
the permission convention (`require`) and the route-permission walker."""
