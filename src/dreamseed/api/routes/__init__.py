"""One router per resource: health, IRT (calibrate/score), analysis (online θ update), metrics."""
