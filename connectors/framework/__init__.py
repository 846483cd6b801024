"""The framework every API connector shares: HTTP on dlt's REST client, settings, state, sync.

A connector describes *what* to ask (its streams, their slices and how a source record becomes a
canonical row); the framework does the rest the same way for every source: credentials, paced
requests with retries that honour Retry-After, validation with quarantine, landing, incremental
cursors and checkpoints (docs/developer/connectors.md).
"""
