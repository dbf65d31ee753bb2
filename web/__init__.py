"""The plumbing every app's pages (and forms) share: a service's errors beside their
fields and the error summary's links, the range of dates a person may type, the upload
size guard, the spreadsheet exports' guard against formulas, the "Error: " title of a page
whose form was refused, and the read-only admin base."""
