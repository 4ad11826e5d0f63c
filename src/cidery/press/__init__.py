"""Pressing: the named queries of the mobile app and the press-run workflow."""
