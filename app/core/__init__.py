"""The contract: the service model, validation, transcript JSON, the editable document, settings."""
