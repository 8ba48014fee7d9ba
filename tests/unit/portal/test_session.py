"""The portal's cookie format and CSRF tokens (bound to a session, keyed by a server secret)."""

from __future__ import annotations

import stat
from pathlib import Path

from pydantic import SecretStr

from clearguard.config import Settings
from clearguard.portal.session import Csrf, Tokens, pre_binding


def test_tokens_round_trip_and_junk_is_no_session() -> None:
    tokens = Tokens("cga_abc-DEF_1", "cgr_xyz", 1_700_000_000)
    assert Tokens.decode(tokens.encode()) == tokens
    for junk in (None, "", "cga_only", "a.b.c.d", "a.b.notdigits", "x" * 600):
        assert Tokens.decode(junk) is None


def test_csrf_token_is_bound_to_its_session() -> None:
    csrf = Csrf(b"k" * 32)
    token = csrf.token("s:41")
    assert csrf.valid("s:41", token)
    assert not csrf.valid("s:42", token)  # another session's token
    assert not csrf.valid("s:41", token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert not csrf.valid("s:41", None) and not csrf.valid("s:41", "")
    assert not Csrf(b"j" * 32).valid("s:41", token)  # another server key
    assert not csrf.valid(pre_binding("41"), token)  # a pre-session binding is another binding


def test_csrf_key_comes_from_the_secret_or_a_private_key_file(tmp_path: Path) -> None:
    with_secret = Settings(var_dir=tmp_path / "a", secret_key=SecretStr("a-real-secret-of-some-length"))
    assert Csrf.from_settings(with_secret).token("s:1") == Csrf.from_settings(with_secret).token("s:1")
    assert not (with_secret.keys_dir / "portal-csrf.key").exists()
    dev = Settings(var_dir=tmp_path / "b")
    first = Csrf.from_settings(dev).token("s:1")
    key = dev.keys_dir / "portal-csrf.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert Csrf.from_settings(dev).token("s:1") == first  # every worker derives the same token
    assert Csrf.from_settings(with_secret).token("s:1") != first
