"""The API's routes, one module per resource; each handler parses, calls a service, returns."""
