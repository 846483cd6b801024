"""The serving stage: tenant reports, exports and alerts, and the channels they are sent by."""
