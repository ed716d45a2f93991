"""Oscar fork of dashboard.catalogue for one module, `forms.py` (the stock record form edits the
cost price). Oscar's get_class finds it through the `dashboard` app, which is ours."""
