"""HL7 v2.5.1 MDM of real AWS transcripts: built with hl7apy, validated by hl7apy's strict parser,
parsed back (and unescaped) by the independent python ``hl7`` library."""

from __future__ import annotations

import re

import hl7
import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

from app.export import hl7 as mdm
from app.export.note import Paragraph
from ehrdata import sample_note


def words(text: str) -> list[str]:
    return re.sub(r"[^\w' ]", " ", text.lower()).split()


def obx_lines(msg: hl7.Message) -> list[str]:
    return [msg.unescape(str(obx[5])) for obx in msg.segments("OBX")]


def test_mdm_t02_of_each_sample_is_valid_and_reads_back(aws_note):
    er7 = mdm.render(aws_note, control_id="CTRL0001")
    assert "\n" not in er7 and er7.count("\r") >= 6
    strict = parse_message(er7, validation_level=VALIDATION_LEVEL.STRICT, force_validation=True)
    strict.validate()
    msg = hl7.parse(er7)
    assert [str(s[0]) for s in msg][:5] == ["MSH", "EVN", "PID", "PV1", "TXA"]
    assert str(msg.segment("MSH")[9]) == "MDM^T02^MDM_T02" and str(msg.segment("MSH")[10]) == "CTRL0001"
    assert str(msg.segment("MSH")[12]) == "2.5.1"
    pid = msg.segment("PID")
    assert str(pid[3][0][0]) == "MRN-004211" and str(pid[3][0][4]) == "MR"
    assert str(pid[3][0][3]) == "&2.16.840.1.113883.3.7418.2.1&ISO"
    assert msg.unescape(str(pid[5][0][0])) == "Garcia-O'Neil" and msg.unescape(str(pid[5][0][1])) == "María"
    assert str(pid[7]) == "19610714"
    txa = msg.segment("TXA")
    assert str(txa[2]) == "11506-3" and str(txa[17]) == "AU" and str(txa[13]) == ""
    assert str(txa[9][0][0]) == "1234567893" and str(txa[9][0][1]) == "Okafor"
    assert str(msg.segment("PV1")[19]) == "ENC-88120"
    lines = obx_lines(msg)
    assert all(str(obx[2]) == "TX" and str(obx[11]) == "F" for obx in msg.segments("OBX"))
    assert [int(str(obx[1])) for obx in msg.segments("OBX")] == list(range(1, len(lines) + 1))
    expected = [w for p in aws_note.paragraphs for w in words(f"{p.speaker}: {p.text}")]
    assert words(" ".join(lines)) == expected  # every word of the note, in order
    assert all(len(str(obx[5])) <= mdm.LINE_WIDTH for obx in msg.segments("OBX"))


def test_separators_and_the_escape_character_round_trip():
    note = sample_note(patient_name="Smith^Jones, Ann&Bo Lee")
    tricky = r"BP 120/80 | sat 98% ^ temp ~37 \ path C:\notes & a literal \F\ here"
    note.paragraphs = [Paragraph("Dr Okafor", tricky, 0.0, 1.0), Paragraph("", "second\nline two", 1.0, 2.0)]
    er7 = mdm.render(note, sending_facility="A|B~C")
    parse_message(er7, validation_level=VALIDATION_LEVEL.STRICT, force_validation=True).validate()
    msg = hl7.parse(er7)
    lines = obx_lines(msg)
    assert lines == [f"Dr Okafor: {tricky}", "", "second", "line two"]
    assert msg.unescape(str(msg.segment("PID")[5][0][0])) == "Smith^Jones"
    assert msg.unescape(str(msg.segment("PID")[5][0][1])) == "Ann&Bo"
    assert msg.unescape(str(msg.segment("PID")[5][0][2])) == "Lee"
    assert msg.unescape(str(msg.segment("MSH")[4])) == "A|B~C"
    assert len(msg.segments("OBX")) == 4  # no separator leaked into a new field or segment


def test_mdm_t10_replaces_the_previous_document_and_preliminary_status():
    note = sample_note(status="preliminary")
    er7 = mdm.render(note, replaces="a1b2c3", document_id="d4e5f6")
    parse_message(er7, validation_level=VALIDATION_LEVEL.STRICT, force_validation=True).validate()
    msg = hl7.parse(er7)
    assert str(msg.segment("MSH")[9]) == "MDM^T10^MDM_T02" and str(msg.segment("EVN")[1]) == "T10"
    txa = msg.segment("TXA")
    assert (str(txa[12]), str(txa[13]), str(txa[17])) == ("d4e5f6", "a1b2c3", "DO")
    assert {str(obx[11]) for obx in msg.segments("OBX")} == {"P"}


def test_long_paragraphs_wrap_between_words():
    note = sample_note()
    long_text = " ".join(["pneumonoultramicroscopicsilicovolcanoconiosis|x"] * 30 + ["y" * 450])
    note.paragraphs = [Paragraph("", long_text, None, None)]
    msg = hl7.parse(mdm.render(note))
    lines = obx_lines(msg)
    assert "".join(lines).replace(" ", "") == long_text.replace(" ", "")
    assert all(len(str(obx[5])) <= mdm.LINE_WIDTH for obx in msg.segments("OBX"))


def test_validate_refuses_a_broken_message_without_quoting_it():
    with pytest.raises(ValueError):
        mdm.validate("MSH|^~\\&|X||||20261202||MDM^T02^MDM_T02|1|P|2.5.1\rOBX|1|TX|||x")
    with pytest.raises(ValueError) as err:
        mdm.render(sample_note(), sending_facility="Riverside Family Practice North")
    assert "longer than the 20" in str(err.value) and "Riverside" not in str(err.value)
