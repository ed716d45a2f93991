"""Oscar fork of dashboard.vouchers.views: the voucher set's code list downloads as a CSV with
no cell a spreadsheet would run as a formula (shop.common.safe_csv). Everything else is
Oscar's."""

from django.http import HttpResponse
from django.utils.text import slugify
from oscar.apps.dashboard.vouchers.views import *  # noqa: F403 (the module Oscar loads)
from oscar.apps.dashboard.vouchers.views import (
    VoucherSetDownloadView as OscarVoucherSetDownloadView,
)

from shop.common.safe_csv import SafeCSVWriter


class VoucherSetDownloadView(OscarVoucherSetDownloadView):
    def get(self, request, *args, **kwargs):
        voucher_set = self.get_object()
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{slugify(voucher_set.name)}.csv"'
        writer = SafeCSVWriter(response)
        for code in voucher_set.vouchers.values_list("code", flat=True):
            writer.writerow([code])
        return response
