"""Durable state: jobs, vocabularies, local buckets, credentials in the keyring."""
