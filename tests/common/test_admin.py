"""Ledgers and event rows are read-only in the Django admin, even for a superuser: they change
only through their services (shop.common.admin.ReadOnlyAdmin)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model", ["credit/creditentry", "credit/creditaccount", "referrals/referral"]
)
def test_a_superuser_may_list_but_not_add_change_or_delete(admin_client, model):
    assert admin_client.get(f"/admin/{model}/").status_code == 200
    assert admin_client.get(f"/admin/{model}/add/").status_code == 403
    assert admin_client.post(f"/admin/{model}/add/", {}).status_code == 403
