"""Accounts: users, their passwords, browser sessions, API tokens and sign-in throttling."""
