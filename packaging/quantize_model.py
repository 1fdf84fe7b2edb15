"""Store a CTranslate2 Whisper model's weights as int8, for the bundle (issue 13).

The default model package (tiny.en) stores its weights in float16 (75 MB); on a CPU the engine loads
it as int8 anyway (CTranslate2 quantizes at load). Stored as int8 the same model is half the size.
CTranslate2 cannot save a model it has loaded (OpenNMT/CTranslate2#1761), so this reads model.bin
(its binary format, version 6: what `ModelSpec._serialize` writes), puts the variables into
CTranslate2's own WhisperSpec and lets the spec quantize and write them: the same code path as
`ct2-transformers-converter --quantization int8`, without torch or transformers.

    python packaging/quantize_model.py SRC_MODEL_DIR DEST_MODEL_DIR
"""
from __future__ import annotations

import re
import shutil
import struct
import sys
from pathlib import Path

import numpy as np
from ctranslate2.specs import model_spec
from ctranslate2.specs import whisper_spec as whisper_spec_module

# include/ctranslate2/types.h's DataType order (model_spec._dtype_to_type_id)
_DTYPES = ("float32", "int8", "int16", "int32", "float16")


def read_model_bin(path: Path) -> tuple[str, int, dict[str, np.ndarray], dict[str, str]]:
    """(spec name, revision, variables, aliases: alias -> variable) of a CTranslate2 model.bin."""
    data = memoryview(path.read_bytes())
    pos = 0

    def take(fmt: str):
        nonlocal pos
        values = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return values[0] if len(values) == 1 else values

    def string() -> str:
        nonlocal pos
        size = take("H")
        text = bytes(data[pos:pos + size - 1]).decode("utf-8")
        pos += size
        return text

    version = take("I")
    if version != 6:
        raise ValueError(f"{path}: model.bin version {version}; this reads version 6")
    name, revision = string(), take("I")
    variables: dict[str, np.ndarray] = {}
    for _ in range(take("I")):
        var = string()
        shape = [take("I") for _ in range(take("B"))]
        dtype, size = _DTYPES[take("B")], take("I")
        variables[var] = np.frombuffer(data[pos:pos + size], dtype=dtype).reshape(shape).copy()
        pos += size
    aliases = {}
    for _ in range(take("I")):
        alias = string()
        aliases[alias] = string()
    if pos != len(data):
        raise ValueError(f"{path}: {len(data) - pos} bytes after the aliases")
    return name, revision, variables, aliases


def _set(spec, name: str, value) -> None:
    """Set the variable `name` ("encoder/layer_0/.../weight") of a spec."""
    scope, attr = model_spec._parent_scope(name)
    layer = model_spec.index_spec(spec, scope) if scope else spec
    if not hasattr(layer, attr):
        raise ValueError(f"{name}: not a variable of WhisperSpec (another model type?)")
    setattr(layer, attr, value)


def whisper_spec(variables: dict[str, np.ndarray], aliases: dict[str, str]):
    """CTranslate2's WhisperSpec holding these variables, an alias holding its variable's array."""
    def layers(part: str) -> int:
        return 1 + max(int(m.group(1)) for n in variables if (m := re.match(rf"{part}/layer_(\d+)/", n)))

    spec = whisper_spec_module.WhisperSpec(layers("encoder"), int(variables["encoder/num_heads"]),
                                           layers("decoder"), int(variables["decoder/num_heads"]))
    for name, value in variables.items():
        _set(spec, name, value)
    for alias, target in aliases.items():
        _set(spec, alias, variables[target])
    return spec


def quantize(src: Path, dest: Path, quantization: str = "int8") -> None:
    name, revision, variables, aliases = read_model_bin(src / "model.bin")
    if name != "WhisperSpec":
        raise ValueError(f"{src}: a {name}, not a Whisper model")
    if any(v.dtype == np.int8 and n.endswith("weight") for n, v in variables.items()):
        raise ValueError(f"{src}: already quantized")
    spec = whisper_spec(variables, aliases)
    if spec.revision != revision:
        raise ValueError(f"{src}: WhisperSpec revision {revision}, this CTranslate2 writes {spec.revision}")
    model_spec.LayerSpec.validate(spec)  # the layers' checks (the vocabulary is in the copied files)
    for alias, target in aliases.items():  # an alias is its variable's name in place of a value, set
        _set(spec, alias, target)          # after validate (which would turn the name into an array)
    spec._quantize(quantization)
    dest.mkdir(parents=True, exist_ok=True)
    spec._serialize(str(dest / "model.bin"))
    for other in src.iterdir():  # config.json, tokenizer.json, vocabulary: unchanged
        if other.name != "model.bin" and other.is_file():
            shutil.copy2(other, dest / other.name)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python packaging/quantize_model.py SRC_MODEL_DIR DEST_MODEL_DIR")
    quantize(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"{sys.argv[2]}/model.bin: {(Path(sys.argv[2]) / 'model.bin').stat().st_size / 1e6:.1f} MB")
