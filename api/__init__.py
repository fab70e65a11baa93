"""The collector's read-only HTTP query API (port 4319) and its client."""

# Here, not in api.client: the CLI names it in its options, and `stepseven serve` should not import httpx.
DEFAULT_URL = "http://127.0.0.1:4319"
