"""The response-timeliness review: each country's figures (reply times, silence rate,
on-time share), computed in one place and shown as pages, charts, CSV/XLSX exports, the
REST endpoint, and the silence record shown beside a notification."""
