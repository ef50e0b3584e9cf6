"""Clients of services outside this process: the remote IRT service (`irt_client`). No FastAPI import."""
