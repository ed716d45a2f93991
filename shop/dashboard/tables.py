"""Oscar fork of dashboard.tables: the base class of every Oscar dashboard table."""

from django_tables2 import TemplateColumn
from oscar.apps.dashboard.tables import DashboardTable as OscarDashboardTable


class DashboardTable(OscarDashboardTable):
    """Oscar 4.2's product, category and user tables leave their template-only columns (a row's
    checkbox, its actions) orderable, so the header links to `?sort=checkbox` and sorting the
    queryset by a field that does not exist is a FieldError: a 500. A template column with
    neither an accessor nor an `order_by` has nothing to sort by: it is not orderable (no header
    link, and django-tables2 ignores the sort parameter)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for bound in self.columns.iterall():
            column = bound.column
            if (
                isinstance(column, TemplateColumn)
                and column.orderable is None
                and column.accessor is None
                and column.order_by is None
            ):
                column.orderable = False
