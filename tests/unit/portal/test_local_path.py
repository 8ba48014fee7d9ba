"""`next=` targets stay on this site: no open redirect, whatever a browser makes of the characters."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearguard.portal.templating import local_path


@pytest.mark.asvs("V3.7.2")
@pytest.mark.parametrize(
    "target",
    [
        "//evil.example", "/\\evil.example", "\\\\evil.example", "https://evil.example/", "javascript:alert(1)",
        "/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "/\x00/evil", "/\x7f/evil", "/ /evil",
        "evil.example", "", None,
    ],
)  # fmt: skip
def test_a_target_that_a_browser_could_read_as_another_site_falls_back(target: str | None) -> None:
    assert local_path(target, "/home") == "/home"


@pytest.mark.parametrize("target", ["/declarations", "/declarations?status=accepted", "/officer/26GB1#x", "/%09/x"])
def test_a_local_path_is_kept(target: str) -> None:
    assert local_path(target, "/home") == target


def test_static_files_are_served_when_the_package_lives_under_a_dotted_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clearguard.portal.pages import static

    folder = tmp_path / ".venv" / "site-packages" / "clearguard" / "portal" / "static"
    (folder / "css").mkdir(parents=True)
    (folder / "css" / "portal.css").write_text("body{}")
    (folder / ".hidden").write_text("meta")
    monkeypatch.setattr(static, "STATIC_DIR", folder.resolve())
    assert static.static_file("css/portal.css").status_code == 200
    assert static.static_file(".hidden").status_code == 404
    assert static.static_file("../static/.hidden").status_code == 404
