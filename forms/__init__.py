"""WTForms: one form per user-task form key and per resident request type."""
