"""Oscar fork of dashboard.reports.reports: every CSV of Oscar's dashboard reports (orders
placed, product and user analytics, open and submitted baskets, offers, vouchers) is written
with no cell a spreadsheet would run as a formula (shop.common.safe_csv). Everything else is
Oscar's; the per-app report classes inherit this formatter through get_class."""

from oscar.apps.dashboard.reports.reports import *  # noqa: F403 (the module Oscar loads)
from oscar.apps.dashboard.reports.reports import ReportCSVFormatter as OscarReportCSVFormatter
from oscar.core.compat import UnicodeCSVWriter

from shop.common.safe_csv import csv_cell


class SafeUnicodeCSVWriter(UnicodeCSVWriter):
    def writerow(self, row):
        return super().writerow([csv_cell(value) for value in row])


class ReportCSVFormatter(OscarReportCSVFormatter):
    def get_csv_writer(self, file_handle, **kwargs):
        return SafeUnicodeCSVWriter(open_file=file_handle, **kwargs)
