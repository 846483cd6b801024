"""Earshot's webhook receiver: platforms push orders, contacts and events to
``POST /webhooks/{platform}/{tenant}``.

* ``signatures.py``: each platform's signature scheme, compared in constant time;
* ``deliveries.py``: what one verified request stands for (topic, delivery key, payload), per
  platform, and Meta's own request checks;
* ``inbox.py``: the durable inbox in the landing zone (pending, done, failed);
* ``receiver.py``: the ASGI app (Starlette) and ``earshot webhooks serve``;
* ``processor.py``: drains pending deliveries through each platform's connector into landing.

docs/developer/webhooks.md describes the design and its crash cases.
"""
