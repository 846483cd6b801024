"""Alerts: rules evaluated on the warehouse (rules.py), sent through the outbox (dispatch.py)."""
