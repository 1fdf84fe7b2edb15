"""Sending notes to the EHR: a FHIR R4 server (fhir_client), an HL7 v2 interface engine over MLLP
(mllp_client), and a durable outbox (outbox) so that nothing is lost when a send fails."""
