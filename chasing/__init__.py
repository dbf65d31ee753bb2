"""Chasing silence: the sweep that walks each awaited notification down the chase ladder
(reminder, overdue, escalation, persistent silence), the records it leaves, and INCB's
follow-ups with its queue of silent notifications."""
