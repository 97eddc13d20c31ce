"""The holiday-morning load harness: scenarios (locustfile), the peak profile, the one command, the report."""
