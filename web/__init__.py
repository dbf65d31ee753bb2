"""The browser pages' plumbing shared by every app's forms: a service's errors placed
beside their fields, and the error summary's links."""
