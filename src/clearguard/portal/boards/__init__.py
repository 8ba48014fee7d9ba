"""What each staff role's portal pages show and do, gathered only through the capabilities' services,
the declaration gate (access policy, break-glass, redaction) and the same audit events as the API.
The page modules (portal/pages/<area>.py) render these; keeping them apart lets them be tested
against real services without a browser."""
