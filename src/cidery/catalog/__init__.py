"""What the forms and reports read: growers, varieties, vessels, yields, the audit log."""
