"""The HTTP service: `create_app` (dreamseed.api.app), one router per resource (routes/), and the
client of a remote IRT service (dreamseed.api.client, no FastAPI import)."""
