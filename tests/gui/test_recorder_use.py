"""The recorder says what is wrong where the user looks: no input, a device that will not open, Ctrl+R,
and a Rescan devices button that looks again (PortAudio lists the devices once, at start)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.audio import recording


def _has_input() -> bool:
    try:
        return bool(recording.list_input_devices())
    except recording.AudioUnavailable:
        return False


no_input_here = pytest.mark.skipif(_has_input(), reason="this computer has an input device")


@no_input_here
def test_with_no_input_device_the_status_line_says_so_not_ready(make_window):
    w = make_window(restore=False)
    rec = w.recorder
    assert rec.unavailable.isVisible()
    assert rec.status.text() != "Ready."
    assert rec.status.text() == rec.unavailable.text()
    assert rec.status.property("role") == "error"
    assert not rec.record_button.isEnabled() and rec.rescan_button.isEnabled()


@no_input_here
def test_ctrl_r_with_no_input_device_says_why_nothing_happens(make_window, qtbot):
    w = make_window(restore=False)
    w.show_page("Jobs")
    w.activateWindow()
    assert w.record_action.shortcut().toString() == "Ctrl+R"
    qtbot.keyClick(w, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    if w.current_page() != "Record":   # platforms without window activation: the action itself
        w.record_action.trigger()
    assert w.current_page() == "Record"
    assert not w.recorder.is_recording
    text = w.recorder.status.text()
    assert text == f"Cannot record: {w.recorder.unavailable.text()}"
    assert w.recorder.status.property("role") == "error"
    assert w.recorder.status.isVisible()


def test_a_device_that_will_not_open_is_named_in_the_status_line(make_window, qtbot):
    def busy(**_):
        raise OSError("Device unavailable [PaErrorCode -9985]")

    w = make_window(restore=False)
    rec = w.recorder
    rec.add_input("Busy headset", busy)
    assert rec.status.text() == "Ready." and rec.record_button.isEnabled()   # it has an input now
    qtbot.mouseClick(rec.record_button, Qt.MouseButton.LeftButton)
    assert not rec.is_recording
    assert rec.status.text() == "The input device could not be opened: Device unavailable [PaErrorCode -9985]"
    assert rec.status.property("role") == "error"
    assert not list(w.ctx.recordings_dir.glob("recording-*"))    # no empty file left behind


def test_rescan_devices_restarts_portaudio_and_lists_what_it_finds_now(make_window, monkeypatch, qtbot):
    sd = pytest.importorskip("sounddevice")
    w = make_window(restore=False)
    rec = w.recorder
    before = [rec.device.itemText(i) for i in range(rec.device.count())]
    terminated = []
    real_terminate = sd._terminate
    monkeypatch.setattr(sd, "_terminate", lambda: (terminated.append(1), real_terminate()))
    qtbot.mouseClick(rec.rescan_button, Qt.MouseButton.LeftButton)
    assert terminated == [1] and sd._initialized == 1      # PortAudio restarted, and up again
    sd.query_devices()                                    # and usable
    assert [rec.device.itemText(i) for i in range(rec.device.count())] == before
    if not before:
        assert rec.status.property("role") == "error" and rec.status.text() == rec.unavailable.text()

    # a headset plugged in since: the next rescan lists it, and the status line agrees
    headset = recording.InputDevice(7, "USB headset", 1, 48000, True)
    real_list = recording.list_input_devices
    monkeypatch.setattr(recording, "list_input_devices", lambda: [headset])
    qtbot.mouseClick(rec.rescan_button, Qt.MouseButton.LeftButton)
    assert rec.device.currentText() == "USB headset  (default)"
    assert rec.status.text() == "Devices rescanned: 1 input device found. Ready."
    assert rec.status.property("role") == "hint"
    assert not rec.unavailable.isVisible() and rec.record_button.isEnabled()
    monkeypatch.setattr(recording, "list_input_devices", real_list)


def test_no_rescan_while_recording_and_the_fake_microphone_survives_a_rescan(make_window, fake_mic, qtbot):
    w = make_window(restore=False)
    rec = w.recorder
    rec.add_input("Sample speech (test input)", fake_mic)
    assert rec.status.text() == "Ready."
    qtbot.mouseClick(rec.record_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: rec.recorder.elapsed > 0.5, timeout=5000)
    assert not rec.rescan_button.isEnabled()
    rec.rescan()                                          # e.g. from code: refused, the recording goes on
    assert rec.is_recording and "Stop recording before rescanning" in rec.status.text()
    path = rec.stop()
    assert path.exists() and rec.status.text().startswith("Saved ")
    qtbot.mouseClick(rec.rescan_button, Qt.MouseButton.LeftButton)
    assert rec.device.findText("Sample speech (test input)") >= 0 and rec.record_button.isEnabled()


def test_rescan_is_refused_while_a_portaudio_stream_is_open(monkeypatch):
    pytest.importorskip("sounddevice")
    monkeypatch.setattr(recording, "_live_streams", {object()})
    with pytest.raises(RuntimeError, match="while recording"):
        recording.rescan_input_devices()
