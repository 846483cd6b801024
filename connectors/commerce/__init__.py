"""Connectors for ecommerce platforms: orders, their discount codes, and the visits behind them."""

from __future__ import annotations

from connectors.commerce.bigcommerce import BigCommerce
from connectors.commerce.shopify import Shopify
from connectors.commerce.squarespace import Squarespace
from connectors.commerce.woocommerce import WooCommerce
from connectors.framework.connector import Connector

COMMERCE_CONNECTORS: list[type[Connector]] = [Shopify, Squarespace, WooCommerce, BigCommerce]
