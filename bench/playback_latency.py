"""The transcript editor's playback, as a clinician feels it: a click on a word (seek and play) until its
sound comes out, and whether the play position (the highlighted word) keeps up with what is heard.
ClinScribe's player (PyAV + FFmpeg's atempo + QAudioSink) and Qt's QMediaPlayer (its FFmpeg backend,
what the app used before) measured in the same run, on the same recording and the same output.

    .venv/bin/python bench/playback_latency.py [--audio FILE] [--rate 1.0] [--seeks 0.4,3.6,6.6,8.5]

Needs PulseAudio (``apt-get install pulseaudio pulseaudio-utils``): the script starts a private daemon
with a null sink (no sound card needed) and listens on the sink's monitor with ``parec`` in 10 ms
blocks; "heard" is the first block louder than -24 dBFS after the click (a click into a pause is
"heard" only when the voice resumes, for both players alike). Per click: click-to-sound, and
after 2 s of playing, the reported position minus the recording's seconds that came out (+ = the
highlight runs ahead of the voice).
QMediaPlayer has no pitch-kept speed change on every backend; at --rate other than 1 both are asked for it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
JFK = ROOT.parent / "shared" / "data" / "audio" / "jfk.flac"
BLOCK_S = 0.01


def start_pulse() -> Path:
    if not shutil.which("pulseaudio") or not shutil.which("parec"):
        sys.exit("needs PulseAudio: apt-get install --no-install-recommends pulseaudio pulseaudio-utils")
    home = Path(tempfile.mkdtemp(prefix="clinscribe-bench-pulse-"))
    home.chmod(0o700)
    os.environ.update(HOME=str(home), XDG_RUNTIME_DIR=str(home))
    subprocess.run(["pulseaudio", "-n", "--daemonize=yes", "--exit-idle-time=-1",
                    "-L", "module-native-protocol-unix",
                    "-L", "module-null-sink sink_name=benchsink rate=48000 channels=2"],
                   check=True, capture_output=True)
    subprocess.run(["pactl", "set-default-sink", "benchsink"], check=True)
    return home


class Ear:
    """The sink's monitor, in 10 ms blocks: when sound came out."""

    def __init__(self):
        self.loud: list[float] = []    # monotonic time of each loud block's arrival
        self.blocks: list[float] = []  # arrival time of every block
        self._rec = subprocess.Popen(["parec", "-d", "benchsink.monitor", "--raw", "--format=s16le",
                                      "--rate=16000", "--channels=1", "--latency-msec=10"],
                                     stdout=subprocess.PIPE)
        threading.Thread(target=self._read, daemon=True).start()
        began = time.monotonic()
        while (len(self.blocks) < 50) and time.monotonic() - began < 10:   # listening for 0.5 s already
            time.sleep(0.01)

    def _read(self):
        size = int(16000 * BLOCK_S) * 2
        while block := self._rec.stdout.read(size):
            now = time.monotonic()
            self.blocks.append(now)
            if np.abs(np.frombuffer(block, dtype="<i2")).max() > 2000:
                self.loud.append(now)

    def first_sound_after(self, t0: float) -> float | None:
        return next((t for t in self.loud if t > t0), None)

    def close(self):
        self._rec.terminate()


def measure(app, ear, seek_and_play, pause, position, seeks, rate) -> list[tuple[float | None, float | None]]:
    out = []
    for start in seeks:
        settle = time.monotonic()
        while time.monotonic() - settle < 0.8:
            app.processEvents()
            time.sleep(0.005)
        t0 = time.monotonic()
        seek_and_play(start)
        heard = None
        while time.monotonic() - t0 < 4.0:
            app.processEvents()
            time.sleep(0.002)
            heard = heard or ear.first_sound_after(t0)
            if heard and time.monotonic() - heard >= 2.0:
                break
        drift = None
        if heard:
            out_s = time.monotonic() - heard        # audio that has come out since the first sound
            drift = (position() - start) - out_s * rate   # in the recording's seconds
        pause()
        out.append((None if heard is None else heard - t0, drift))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", type=Path, default=JFK)
    parser.add_argument("--rate", type=float, default=1.0)
    parser.add_argument("--seeks", default="0.4,3.6,6.6,8.0")
    args = parser.parse_args()
    seeks = [float(s) for s in args.seeks.split(",")]
    home = start_pulse()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")
    from PySide6.QtCore import QUrl
    from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
    from PySide6.QtWidgets import QApplication

    from app.gui.player import Player

    app = QApplication([])
    ear = Ear()
    rows = []
    try:
        ours = Player()
        ours.load(args.audio)
        ours.set_rate(args.rate)
        rows.append(("ClinScribe player (PyAV + QAudioSink)",
                     measure(app, ear, ours.seek_and_play, ours.pause, lambda: ours.position, seeks, args.rate)))
        peer, output = QMediaPlayer(), QAudioOutput()
        peer.setAudioOutput(output)
        peer.setSource(QUrl.fromLocalFile(str(args.audio)))
        loaded = time.monotonic()
        while peer.mediaStatus() != QMediaPlayer.MediaStatus.LoadedMedia and time.monotonic() - loaded < 5:
            app.processEvents()
            time.sleep(0.01)
        peer.setPitchCompensation(True)
        peer.setPlaybackRate(args.rate)

        def peer_seek(seconds):
            peer.setPosition(int(seconds * 1000))
            peer.play()

        rows.append(("Qt QMediaPlayer (FFmpeg backend)",
                     measure(app, ear, peer_seek, peer.pause, lambda: peer.position() / 1000, seeks, args.rate)))
    finally:
        ear.close()
        subprocess.run(["pulseaudio", "--kill"], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)

    print(f"\n{args.audio.name}, rate {args.rate}x, clicks at {', '.join(f'{s:g}' for s in seeks)} s "
          "(PulseAudio null sink)\n")
    print("| player | click to sound, each (s) | median | position − heard after 2 s, each (s) |")
    print("|---|---|---:|---|")
    for name, results in rows:
        lat = [r[0] for r in results]
        got = [x for x in lat if x is not None]
        med = f"{statistics.median(got):.2f}" if got else "–"
        print(f"| {name} | {' / '.join('none' if x is None else f'{x:.2f}' for x in lat)} | {med} | "
              f"{' / '.join('–' if r[1] is None else f'{r[1]:+.2f}' for r in results)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
