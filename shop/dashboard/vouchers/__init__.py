"""Oscar fork of dashboard.vouchers for one module, `views.py` (the voucher set download)."""
