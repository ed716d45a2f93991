"""Oscar fork of dashboard.reports for one module, `reports.py` (CSV without live formulas)."""
