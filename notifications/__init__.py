"""The pre-export notification itself: its items, parties, transit route, replies,
timeline, attachments and risk signals; its reply clock (``clock``); who may see and do
what (``access``); the one write path for every action (``services``); and its pages and
REST API."""
