"""Identity: accounts, passwords, TOTP, WebAuthn passkeys, recovery codes, sessions and tokens."""
