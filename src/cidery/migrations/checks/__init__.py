"""What ``cidery db check``, ``lint`` and ``smoke`` look at: catalog snapshots, drift,
the revisions' SQL against the project's rules, and read-only validation queries."""
