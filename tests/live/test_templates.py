"""Note templates: the shipped ones, the user's own (owner-only, validated), and the job's tag."""

from __future__ import annotations

import json
import stat

import pytest

from app.live import templates
from app.live.templates import (TEMPLATE_TAG, TemplateError, available_templates, get_template,
                                save_user_template, template_of_request)


def test_shipped_templates_load():
    found, problems = available_templates()
    assert problems == []
    assert {"soap", "history-and-physical", "referral-letter", "procedure-note"} <= set(found)
    soap = found["soap"]
    assert soap.name == "SOAP note"
    assert [s.title for s in soap.sections] == ["Subjective", "Objective", "Assessment", "Plan"]
    assert "impression" in soap.sections[2].spoken()
    assert templates._templates_dir().name == "templates"


def test_user_templates_win_and_are_owner_only(tmp_path):
    path = save_user_template(tmp_path, "soap", {"name": "My SOAP", "sections": ["S", "O", "A", "P"]})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert get_template("soap", tmp_path).name == "My SOAP"
    assert [s.title for s in get_template("soap", tmp_path).sections] == ["S", "O", "A", "P"]
    assert get_template("soap").name == "SOAP note"  # without the home: the shipped one


@pytest.mark.parametrize("body, message", [
    ("{not json", "not valid JSON"),
    ("[]", "must be a JSON object"),
    ('{"sections": ["A"]}', "'name' must be a non-empty string"),
    ('{"name": "X", "sections": []}', "'sections' must be a non-empty list"),
    ('{"name": "X", "sections": [{"title": ""}]}', "section 1 needs a 'title'"),
    ('{"name": "X", "sections": ["A", "a"]}', "appears twice"),
    ('{"name": "X", "sections": [{"title": "A", "aliases": "b"}]}', "'aliases' must be a list"),
])
def test_a_bad_user_template_is_one_clear_line(tmp_path, body, message):
    folder = tmp_path / "templates"
    folder.mkdir(mode=0o755)
    (folder / "mine.json").write_text(body)
    found, problems = available_templates(tmp_path)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700  # tightened like the rest of the home
    assert "mine" not in found and "soap" in found  # the others still load
    assert len(problems) == 1 and message in problems[0] and "\n" not in problems[0]
    assert str(folder / "mine.json") in problems[0]
    with pytest.raises(TemplateError, match=message):
        get_template("mine", tmp_path)


def test_unknown_template_names_the_available_ones(tmp_path):
    with pytest.raises(TemplateError, match=r"There is no template 'nope' \(available: .*soap"):
        get_template("nope", tmp_path)
    with pytest.raises(TemplateError, match="template id"):
        save_user_template(tmp_path, "Bad Name", {"name": "X", "sections": ["A"]})


def test_the_job_chooses_its_template_with_a_tag():
    assert template_of_request({"Tags": [{"Key": "team", "Value": "x"}, {"Key": TEMPLATE_TAG, "Value": "soap"}]}) == "soap"
    assert template_of_request({}) is None
    assert TEMPLATE_TAG == "clinscribe:template"


def test_a_job_keeps_a_snapshot_of_its_template():
    soap = get_template("soap")
    again = templates.Template.from_dict(json.loads(json.dumps(soap.to_dict())))
    assert again.sections == soap.sections and again.id == "soap"


def _cli(home, *args):
    import os
    import subprocess
    import sys

    from helpers import ROOT

    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, CLINSCRIBE_HOME=str(home)), timeout=120)


def test_cli_lists_templates_and_switches_voice_commands(tmp_path):
    proc = _cli(tmp_path, "templates")
    assert proc.returncode == 0, proc.stderr
    assert "soap: SOAP note (Subjective, Objective, Assessment, Plan)" in proc.stdout
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "broken.json").write_text('{"name": "B"}')
    proc = _cli(tmp_path, "templates")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert [line for line in proc.stderr.splitlines() if line.startswith("skipped")] == [
        f"skipped {tmp_path / 'templates' / 'broken.json'}: 'sections' must be a non-empty list."]
    proc = _cli(tmp_path, "settings", "--voice-commands", "false")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "settings.json").read_text())["voice_commands"] is False
