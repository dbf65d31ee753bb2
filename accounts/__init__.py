"""People and machines: users and their roles, invitations, passwords, two-factor
sign-in and lockout, login sessions, and the OAuth clients of licensing systems with
their scopes."""
