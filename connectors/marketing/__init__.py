"""Connectors for CRM, marketing automation and web analytics: leads, deals, site events and
traffic."""

from __future__ import annotations

from connectors.framework.connector import Connector
from connectors.marketing.ga4 import Ga4
from connectors.marketing.hubspot import HubSpot
from connectors.marketing.marketo import Marketo
from connectors.marketing.meta_capi import MetaCapi
from connectors.marketing.salesforce import Salesforce

MARKETING_CONNECTORS: list[type[Connector]] = [Ga4, HubSpot, Marketo, MetaCapi, Salesforce]
