"""A synthetic podcast-advertising world per tenant, with known ground truth.

``simulate(config, out_dir)`` writes the export files that ``earshot ingest files`` reads (shows'
episodes, campaigns, ad placements, raw download requests, orders, site events, the host's
daily figures, episode transcripts) and the truth behind them in ``out_dir/_truth``. See
docs/developer/simulator.md.
"""

from connectors.simulator.config import WorldConfig, demo, for_requests, tiny
from connectors.simulator.simulation import SimulationSummary, simulate

__all__ = ["SimulationSummary", "WorldConfig", "demo", "for_requests", "simulate", "tiny"]
