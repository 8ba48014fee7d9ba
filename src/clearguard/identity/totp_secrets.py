"""Where an account's TOTP seed is kept: sealed, bound to the account, never in clear in the database.

Verifying a code needs the seed itself, so it cannot be hashed like a password; it is sealed with a
service key instead (the crypto capability's SecretBox, given as a SecretSealer), the account's
username bound in, so that whoever holds the database file or a backup cannot mint codes, and a seed
copied onto another account does not open. Seeds stored in clear by releases before this one still
verify, and are sealed the first time they are used (`seed` reports that they need it).
"""

from __future__ import annotations

from typing import Final, Protocol

from clearguard.identity.tables import Account

PURPOSE: Final = "identity_accounts.totp_secret"


class SecretSealer(Protocol):
    """clearguard.crypto.secret_box.SecretBox fits this."""

    def seal(self, purpose: str, owner: str, secret: str) -> str: ...

    def open(self, purpose: str, owner: str, stored: str) -> str: ...

    def is_sealed(self, stored: str) -> bool:
        """False for a value stored in clear (a base32 seed never looks sealed)."""
        ...


class TotpSecrets:
    def __init__(self, sealer: SecretSealer) -> None:
        self._sealer = sealer

    def put(self, account: Account, seed: str) -> None:
        account.totp_secret = self._sealer.seal(PURPOSE, account.username, seed)

    def seed(self, account: Account) -> str | None:
        """The account's seed (None if it has none); a seed still stored in clear is sealed on the way."""
        stored = account.totp_secret
        if stored is None:
            return None
        if not self._sealer.is_sealed(stored):
            self.put(account, stored)  # written with the caller's transaction
            return stored
        return self._sealer.open(PURPOSE, account.username, stored)
