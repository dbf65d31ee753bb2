"""Incidents (seizures, stopped or suspended shipments, diversion attempts): their record
and history, who sees them (access), the alerts, and backtracking to the notifications
that name their parties (matching), with the ``incident_party`` risk flag."""
