"""Exports of a reviewed transcript: documents, FHIR R4, HL7 v2 (Qt-free)."""
