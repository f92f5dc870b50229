"""One router per resource, named after its URL."""
