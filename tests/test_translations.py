"""Translations the Django way: English msgids, a complete zh-Hans catalogue, one language per page
(zh-Hans by default, English by Accept-Language or the language switch), services' errors translated."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from exchange.services import transfer_requests
from kernel.errors import DomainError
from tests import factories_exchange as fx

ROOT = Path(settings.BASE_DIR)
ZH_PO = Path("locale/zh_Hans/LC_MESSAGES/django.po")
CJK = re.compile(r"[\u4e00-\u9fff]")
needs_gettext = pytest.mark.skipif(not shutil.which("msgfmt"), reason="needs GNU gettext (apt-get install gettext)")


def statistics(po):
    """msgfmt's own count: '526 translated messages, 2 fuzzy translations, 3 untranslated messages.'"""
    done = subprocess.run(["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stderr.strip()


@needs_gettext
def test_committed_zh_catalogue_has_no_untranslated_or_fuzzy_message():
    stats = statistics(ROOT / ZH_PO)
    assert "untranslated" not in stats and "fuzzy" not in stats, stats


@needs_gettext
def test_every_marked_string_in_the_code_is_translated(tmp_path, monkeypatch, settings):
    """makemessages over a copy of the source: a string marked since the last catalogue update shows up
    as untranslated and fails here (run makemessages and translate it)."""
    copy = tmp_path / "src"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(
        ".venv", ".git", "var", "tests", "bench", "media", "node_modules", "*.mo", "*.sqlite3*", "__pycache__",
        "static", "fixtures"))
    monkeypatch.chdir(copy)
    settings.LOCALE_PATHS = [copy / "locale"]
    call_command("makemessages", locale=["zh_Hans"], no_obsolete=True, verbosity=0)
    stats = statistics(copy / ZH_PO)
    if "untranslated" in stats or "fuzzy" in stats:
        missing = [subprocess.run(["msgattrib", flag, str(copy / ZH_PO)], capture_output=True, text=True).stdout
                   for flag in ("--untranslated", "--only-fuzzy")]
        pytest.fail(f"{stats}; run makemessages and translate:\n" + "\n".join(missing)[-4000:])


def test_msgids_are_english():
    text = (ROOT / ZH_PO).read_text()
    chinese = [m for m in re.findall(r'^msgid "(.*)"$', text, re.M) if CJK.search(m)]
    assert chinese == []


@pytest.fixture
def world(region_world):
    region_world["standards"] = fx.standard_set(region_world["region"], own_window_days=0)
    return region_world


def test_pages_show_one_language_chosen_by_accept_language_or_the_switch(client, world):
    client.force_login(world["users"]["staff_b"])
    chinese = client.get(reverse("web:catalogue")).content.decode()
    assert "公物仓目录" in chinese and "Catalogue" not in chinese
    english = client.get(reverse("web:catalogue"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Catalogue" in english and "公物仓目录" not in english
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("web:catalogue")})
    assert response.status_code == 302
    switched = client.get(reverse("web:catalogue"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "Catalogue" in switched and 'lang="en"' in switched


def test_service_errors_and_labels_follow_the_language(world):
    listing = fx.open_listing(world)
    with translation.override("zh-hans"):
        with pytest.raises(DomainError) as zh:
            transfer_requests.create_request(world["users"]["staff_b"], listing=listing, agency=world["agency_b"],
                                             quantity=1, justification=" ")
        assert zh.value.message == "请填写申领理由。"
        assert str(listing._meta.get_field("title").verbose_name) == "标题"
        assert listing.get_status_display() == "挂牌中"
    with translation.override("en"):
        with pytest.raises(DomainError) as en:
            transfer_requests.create_request(world["users"]["staff_b"], listing=listing, agency=world["agency_b"],
                                             quantity=1, justification=" ")
        assert en.value.message == "A justification is required."
        assert listing.get_status_display() == "open"
