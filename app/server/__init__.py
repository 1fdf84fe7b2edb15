"""The clinic server: the local engine behind AWS Transcribe's HTTP API (AWS JSON 1.1, SigV4).

``clinscribe serve`` runs :func:`app.server.app.create_app` on uvicorn; ``clinscribe server
add-user`` issues the access keys the server verifies (:mod:`.users`, :mod:`.auth`).
"""
