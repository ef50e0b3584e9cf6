"""The HTTP service: `create_app` (dreamseed.api.app) and one router per resource (routes/)."""
