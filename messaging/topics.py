"""Who is told of each topic of an outbox message: never anyone who is not a party.
A message may name its side itself (``payload["to"]``); these are the defaults."""

RECIPIENTS = {
    "notification.received": "importing",
    "notification.withdrawn": "importing",
    "notification.acknowledged": "exporting",
    "notification.replied": "exporting",
    "notification.information_requested": "exporting",
    # An amendment concerns whoever will see the shipment: the importing country and the route.
    "notification.amended": "importing_and_transit",
    "notification.dispatched": "importing",
    "notification.arrived": "exporting",
    "notification.arrival_reminder": "importing",
    "notification.suspended": "all_parties",
    "notification.suspension_lifted": "all_parties",
}
