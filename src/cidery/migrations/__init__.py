"""Alembic environment shipped inside the package, so an installed cidery can migrate."""
