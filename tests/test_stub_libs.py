"""Issue 13: the bundle replaces PyAV's video-encoder and TLS libraries with stubs
(packaging/stub_libs.py). A copy of the installed PyAV, stubbed the same way, must still import and
decode the audio of real recordings in the containers a clinician brings (MP3, M4A, Opus, and video
files with H.264/VP9 tracks), must be much smaller, and must refuse a video encoder with an error
instead of crashing."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from helpers import ROOT

sys.path.insert(0, str(ROOT / "packaging"))
import stub_libs  # noqa: E402

JFK = ROOT.parent / "shared" / "data" / "audio" / "jfk.flac"
pytestmark = pytest.mark.skipif(not shutil.which("cc") or not shutil.which("readelf"),
                                reason="needs a C compiler and readelf (as packaging/build.sh does)")


def _encode(path, fmt, acodec, rate=16000, vcodec=None):
    """jfk.flac re-encoded with the venv's full PyAV (a video track of 10 frames when vcodec)."""
    import av
    import soundfile

    audio, sr = soundfile.read(str(JFK), dtype="float32")
    audio = audio.mean(axis=1) if audio.ndim == 2 else audio
    with av.open(str(path), "w", format=fmt) as out:
        astream = out.add_stream(acodec, rate=rate)
        astream.layout = "mono"
        if vcodec:
            vstream = out.add_stream(vcodec, rate=10)
            vstream.width = vstream.height = 64
            vstream.pix_fmt = "yuv420p"
        frame = av.AudioFrame.from_ndarray((audio * 32767).astype(np.int16)[None, :], format="s16", layout="mono")
        frame.sample_rate = sr
        resampler = av.AudioResampler(format=astream.codec_context.format, layout="mono", rate=rate,
                                      frame_size=astream.codec_context.frame_size or None)
        for chunk in resampler.resample(frame) + resampler.resample(None):
            out.mux(astream.encode(chunk))
        out.mux(astream.encode(None))
        if vcodec:
            for i in range(10):
                out.mux(vstream.encode(av.VideoFrame.from_ndarray(np.full((64, 64, 3), i * 20, np.uint8), format="rgb24")))
            out.mux(vstream.encode(None))


@pytest.fixture(scope="module")
def stubbed_av(tmp_path_factory):
    import av

    site = tmp_path_factory.mktemp("site")
    src = Path(av.__file__).parent.parent
    for name in ("av", "av.libs"):
        shutil.copytree(src / name, site / name, symlinks=True)
    before = sum(p.stat().st_size for p in (site / "av.libs").iterdir())
    assert stub_libs.main([str(site)]) == 0
    after = sum(p.stat().st_size for p in (site / "av.libs").iterdir())
    return site, before, after


def test_stubs_shrink_pyav_and_keep_its_audio_decoding(stubbed_av, tmp_path):
    site, before, after = stubbed_av
    assert before - after > 25 * 2**20, f"only {(before - after) / 2**20:.1f} MB less"
    names = {p.name.split("-")[0] for p in (site / "av.libs").iterdir()}
    assert {"libgnutls", "libx265"} <= names and not names & {"libnettle", "libgmp", "libunistring"}
    stubs = {p.name.split("-")[0] for p in (site / "av.libs").iterdir() if p.stat().st_size < 64 * 2**10}
    assert {"libswscale", "libmp3lame", "libasound", "libwebp", "libvpl"} <= stubs  # PyAV imports with them
    media = {"a.mp3": ("mp3", "libmp3lame"), "a.m4a": ("mp4", "aac"), "a.opus": ("ogg", "libopus", 48000),
             "h264.mp4": ("mp4", "aac", 16000, "libx264"), "vp9.webm": ("webm", "libopus", 48000, "libvpx-vp9")}
    for name, args in media.items():
        _encode(tmp_path / name, *args)
    script = textwrap.dedent(f"""
        import sys, av
        assert av.__file__.startswith({str(site)!r}), av.__file__
        from app.local import media
        for name in {sorted(media)!r}:
            pcm = media.mixdown(media.decode({str(tmp_path)!r} + "/" + name, 1))
            print(name, round(len(pcm) / 16000, 1), round(float(abs(pcm).max()), 2))
        out = av.open({str(tmp_path / "x.mp4")!r}, "w")
        try:
            stream = out.add_stream("libx264", rate=10)
            stream.width = stream.height = 64
            stream.encode(av.VideoFrame.from_ndarray(__import__("numpy").zeros((64, 64, 3), "uint8"), format="rgb24"))
            print("encoder opened")
        except Exception as exc:
            print("encoder refused:", type(exc).__name__)
    """)
    env = {"PYTHONPATH": f"{site}:{ROOT}", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = dict(line.split(" ", 1) for line in run.stdout.splitlines())
    for name in media:
        seconds, peak = map(float, lines[name].split())
        assert 10.5 <= seconds <= 11.5 and peak > 0.3, (name, lines[name])  # jfk: 11 s of real speech
    assert lines["encoder"].startswith("refused"), run.stdout


def test_a_library_needed_outside_ffmpeg_is_kept(stubbed_av, tmp_path):
    """stub_libs stubs a library only when FFmpeg's own libraries are all that need it."""
    site, _, _ = stubbed_av
    other = tmp_path / "other"
    shutil.copytree(site / "av.libs", other / "av.libs", symlinks=True)
    import av

    real = next((Path(av.__file__).parent.parent / "av.libs").glob("libx264-*.so*"))
    target = next((other / "av.libs").glob("libx264-*.so*"))
    shutil.copy(real, target)  # the real x264 back, now also needed by a library that is not FFmpeg
    consumer = tmp_path / "uses_x264.c"
    consumer.write_text("int use(void) { return 0; }\n")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(other / "av.libs" / "libuser-0000abcd.so"), str(consumer),
                    "-Wl,--no-as-needed", str(target)], check=True)
    assert not [path for path, _, _ in stub_libs.plan(other) if path.name.startswith("libx264")]
    stub_libs.main([str(other)])
    assert target.stat().st_size == real.stat().st_size
