"""Helpers that revisions import: timeouts and triggers (:mod:`.ops`), archiving rows on a
downgrade (:mod:`.archive`), and the autogenerate plugin for enum labels (:mod:`.enum_values`).

Shipped revisions import only this package, so nothing they need depends on the runner,
the checks or the models."""
