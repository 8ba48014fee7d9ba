import os

import pytest

from clearguard.crypto.errors import DecryptionFailed
from clearguard.crypto.secret_box import SecretBox, is_sealed

SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_a_sealed_secret_opens_for_its_owner_and_shows_nothing_of_itself() -> None:
    box = SecretBox(os.urandom(32))
    stored = box.seal("identity_accounts.totp_secret", "alice", SEED)
    assert is_sealed(stored) and SEED not in stored and len(stored) <= 128
    assert box.open("identity_accounts.totp_secret", "alice", stored) == SEED
    assert box.seal("identity_accounts.totp_secret", "alice", SEED) != stored  # a fresh nonce each time


@pytest.mark.parametrize(
    "purpose, owner",
    [("identity_accounts.totp_secret", "bob"), ("other.purpose", "alice"), ("identity_accounts.totp_secre", "talice")],
)
def test_a_secret_moved_to_another_owner_or_purpose_does_not_open(purpose: str, owner: str) -> None:
    box = SecretBox(os.urandom(32))
    stored = box.seal("identity_accounts.totp_secret", "alice", SEED)
    with pytest.raises(DecryptionFailed, match="does not open"):
        box.open(purpose, owner, stored)


@pytest.mark.asvs("V11.3.3")
def test_tampered_malformed_or_foreign_values_give_one_opaque_error() -> None:
    box = SecretBox(os.urandom(32))
    stored = box.seal("p", "alice", SEED)
    flipped = stored[:-2] + ("A" if stored[-2] != "A" else "B") + stored[-1]
    for bad in (flipped, "v1.", "v1.!!!", "v1." + "A" * 10):
        with pytest.raises(DecryptionFailed):
            box.open("p", "alice", bad)
    with pytest.raises(DecryptionFailed, match="malformed"):
        box.open("p", "alice", SEED)  # not sealed at all
    with pytest.raises(DecryptionFailed):
        SecretBox(os.urandom(32)).open("p", "alice", stored)  # another key


@pytest.mark.asvs("V11.2.3")
def test_the_key_must_be_256_bits() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        SecretBox(os.urandom(16))
