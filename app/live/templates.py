"""Note templates: a name and ordered sections that dictation is sorted into (Qt-free).

A template is a JSON file ``<id>.json``::

    {"name": "SOAP note", "description": "...",
     "sections": [{"title": "Subjective", "aliases": ["history"]}, {"title": "Plan"}]}

Shipped templates live in ``resources/templates/`` of the checkout; the user's own in
``<home>/templates/`` (owner-only), which win over a shipped one with the same id.

A job chooses its template with a tag, since the request is exactly AWS's
StartMedicalTranscriptionJob: ``{"Key": "clinscribe:template", "Value": "soap"}``. The voice
commands "next field" and "go to <section>" (app/live/commands.py) move the dictation that
follows into a section.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

TEMPLATE_TAG = "clinscribe:template"
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_SECTIONS = 40
MAX_BYTES = 64 * 1024


class TemplateError(ValueError):
    """A template file that cannot be used, or a template id that does not exist (one line)."""


@dataclass(frozen=True)
class Section:
    title: str
    aliases: tuple[str, ...] = ()

    def spoken(self) -> list[str]:
        """The names this section answers to after "go to", lower-case, longest first."""
        return sorted({_norm(self.title), *(_norm(a) for a in self.aliases)}, key=len, reverse=True)


@dataclass(frozen=True)
class Template:
    id: str
    name: str
    sections: tuple[Section, ...]
    description: str = ""
    source: str = field(default="", compare=False)  # the file it came from

    def to_dict(self) -> dict:
        """What a job keeps of its template (snapshotted with the job, like a vocabulary)."""
        return {"id": self.id, "name": self.name,
                "sections": [{"title": s.title, "aliases": list(s.aliases)} for s in self.sections]}

    @classmethod
    def from_dict(cls, data: dict) -> "Template":
        return parse_template(data, data.get("id") or "template")


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", text.lower()).split())


def _templates_dir() -> Path:
    """The shipped templates: ``resources/templates`` (a checkout, an installed wheel, a frozen bundle)."""
    from ..resources import resource_path

    return resource_path("templates", must_exist=False)


def user_templates_dir(home: Path) -> Path:
    from ..core.privacy import private_folder

    return private_folder(Path(home) / "templates")


def parse_template(data, template_id: str, source: str = "") -> Template:
    where = source or template_id
    if not isinstance(data, dict):
        raise TemplateError(f"{where}: a template must be a JSON object with 'name' and 'sections'.")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise TemplateError(f"{where}: 'name' must be a non-empty string.")
    raw = data.get("sections")
    if not isinstance(raw, list) or not raw:
        raise TemplateError(f"{where}: 'sections' must be a non-empty list.")
    if len(raw) > MAX_SECTIONS:
        raise TemplateError(f"{where}: at most {MAX_SECTIONS} sections ({len(raw)} given).")
    sections, seen = [], set()
    for n, entry in enumerate(raw, 1):
        if isinstance(entry, str):
            entry = {"title": entry}
        if not isinstance(entry, dict):
            raise TemplateError(f"{where}: section {n} must be a title or an object with 'title'.")
        title = entry.get("title")
        if not isinstance(title, str) or not _norm(title) or len(title) > 80 or "\n" in title:
            raise TemplateError(f"{where}: section {n} needs a 'title' of 1 to 80 characters on one line.")
        aliases = entry.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and _norm(a) for a in aliases):
            raise TemplateError(f"{where}: section '{title}': 'aliases' must be a list of words.")
        if _norm(title) in seen:
            raise TemplateError(f"{where}: the section '{title}' appears twice.")
        seen.add(_norm(title))
        sections.append(Section(title.strip(), tuple(a.strip() for a in aliases)))
    description = data.get("description", "")
    if not isinstance(description, str):
        raise TemplateError(f"{where}: 'description' must be a string.")
    return Template(template_id, name.strip(), tuple(sections), description, source)


def load_template_file(path: Path) -> Template:
    path = Path(path)
    if not _ID.match(path.stem):
        raise TemplateError(f"{path}: the file name must be a template id: lower-case letters, digits, - or _.")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TemplateError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    if len(raw) > MAX_BYTES:
        raise TemplateError(f"{path}: larger than {MAX_BYTES // 1024} KiB; a template is a short list of sections.")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeError, ValueError) as exc:
        raise TemplateError(f"{path}: not valid JSON ({exc}).") from None
    return parse_template(data, path.stem, str(path))


def available_templates(home: Path | None = None) -> tuple[dict[str, Template], list[str]]:
    """(id -> template, one-line problems of the files that could not be used). The user's win."""
    found: dict[str, Template] = {}
    problems: list[str] = []
    folders = [_templates_dir()] + ([Path(home) / "templates"] if home is not None else [])
    for n, folder in enumerate(folders):
        if not folder.is_dir():
            continue
        if n:  # the user's folder, like the rest of the home: owner-only (tightened if need be)
            user_templates_dir(home)
        for path in sorted(folder.glob("*.json")):
            try:
                found[path.stem] = load_template_file(path)
            except TemplateError as exc:
                problems.append(str(exc))
    return found, problems


def get_template(template_id: str, home: Path | None = None) -> Template:
    found, problems = available_templates(home)
    if template_id in found:
        return found[template_id]
    bad = [p for p in problems if Path(p.split(":", 1)[0]).stem == template_id]
    if bad:
        raise TemplateError(bad[0])
    known = ", ".join(sorted(found)) or "none"
    raise TemplateError(f"There is no template '{template_id}' (available: {known}).")


def template_of_request(request: dict) -> str | None:
    """The template id a job asks for with its ``clinscribe:template`` tag, or None."""
    for tag in request.get("Tags") or []:
        if tag.get("Key") == TEMPLATE_TAG and str(tag.get("Value", "")).strip():
            return str(tag["Value"]).strip()
    return None


def save_user_template(home: Path, template_id: str, data: dict) -> Path:
    """Validate and write a user template (owner-only) as ``<home>/templates/<id>.json``."""
    from ..core.privacy import write_private

    if not _ID.match(template_id):
        raise TemplateError(f"'{template_id}' is not a template id: lower-case letters, digits, - or _.")
    parse_template(data, template_id)
    path = user_templates_dir(home) / f"{template_id}.json"
    write_private(path, json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"))
    return path
