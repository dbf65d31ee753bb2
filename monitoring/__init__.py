"""Monitoring beyond formal controls: the estimates of annual legitimate requirements
(ALRs) with what is notified against them, and the risk module's assessors that say what
is unusual about a notification (alr_exceeded, unusual_quantity, new_importer,
prior_objection), with INCB's risk page."""
