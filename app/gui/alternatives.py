"""A turn's alternatives menus: one per segment that has alternatives, "Keep as heard" first, and
each alternative shown as its differences to the current wording (so a long segment fits the window)."""

from __future__ import annotations

from difflib import SequenceMatcher

from PySide6.QtWidgets import QMenu

CONTEXT = 3  # unchanged words shown either side of a difference


def _key(word: str) -> str:
    return word.lower().strip(".,?!;:")


def diff_label(current: str, other: str, context: int = CONTEXT) -> str:
    """``other`` with the words that differ from ``current`` in «», long unchanged runs cut to "…"."""
    a, b = current.split(), other.split()
    ops = SequenceMatcher(a=[_key(w) for w in a], b=[_key(w) for w in b], autojunk=False).get_opcodes()
    out: list[str] = []
    for n, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag == "equal":
            words = b[j1:j2]
            first, last = n == 0, n == len(ops) - 1
            keep_head = [] if first else words[:context]
            keep_tail = [] if last else words[-context:]
            if len(words) > len(keep_head) + len(keep_tail) + 1:
                out += keep_head + ["…"] + keep_tail
            else:
                out += words
        elif tag == "delete":
            out.append("«−" + " ".join(a[i1:i2]) + "»")
        else:  # replace, insert
            out.append("«" + " ".join(b[j1:j2]) + "»")
    return " ".join(out) if any(tag != "equal" for tag, *_ in ops) else other


def _menu_text(text: str) -> str:
    return text.replace("&", "&&")  # no accelerator from an "&" in the words


def fill_menu(menu: QMenu, editor, turn: int, segments) -> None:
    """Rebuild ``menu`` for a turn: the segment's menu itself, or one submenu per segment."""
    from .turn import fmt_time

    doc = editor.doc
    menu.clear()
    many = len(segments) > 1
    for seg in segments:
        target = menu
        if many:
            head = " ".join((seg.alternatives[0].get("transcript") or "").split()[:5])
            target = menu.addMenu(_menu_text(f"{fmt_time(seg.start)}–{fmt_time(seg.end)}  “{head}…”"))
        picked = doc.picked(seg.index, seg.turn)
        transcripts = [alt.get("transcript", "") for alt in seg.alternatives]
        current_k = picked if picked is not None else seg.alternatives[0].get("index", 0)
        current = next((t for alt, t in zip(seg.alternatives, transcripts) if alt.get("index") == current_k),
                       transcripts[0])
        for a, (alt, text) in enumerate(zip(seg.alternatives, transcripts)):
            k = alt.get("index", a)
            label = diff_label(current, text)
            if a == 0:
                label = "Keep as heard" + ("" if text == current else f": {label}")
            act = target.addAction(_menu_text(label))
            act.setData(text)
            act.setToolTip(text)
            act.setStatusTip(text)
            act.setCheckable(True)
            act.setChecked(k == current_k)
            act.triggered.connect(lambda _=False, s=seg.index, k=k, t=turn: editor.pick_alternative(s, k, t))
            if a == 0 and len(transcripts) > 1:
                target.addSeparator()
        target.setToolTipsVisible(True)


def alternative_actions(menu: QMenu) -> list:
    """Every alternative's action in a turn's menu (through its segment submenus), in order."""
    out = []
    for act in menu.actions():
        if act.menu() is not None:
            out += alternative_actions(act.menu())
        elif not act.isSeparator():
            out.append(act)
    return out
