"""A small sample cidery (``cidery db seed``): growers, purchases, vessels and press runs."""
