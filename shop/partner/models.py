from django.db import connection, models
from django.utils.translation import gettext_lazy as _
from oscar.apps.partner.abstract_models import AbstractStockRecord


class StockRecord(AbstractStockRecord):
    # Oscar 4 dropped cost price; the reports need it. The order line snapshots it at placement.
    cost_price = models.DecimalField(
        _("Cost price"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("What one unit costs the workshop to make (materials and labour), in GBP."),
    )

    class Meta(AbstractStockRecord.Meta):
        pass

    @classmethod
    def from_db(cls, db, field_names, values):
        # Remember what was loaded, so a save can tell a change of stock level alone (which
        # only the product's own page shows) from one that listings show (the page cache).
        record = super().from_db(db, field_names, values)
        record._loaded_values = dict(zip(field_names, values, strict=True))
        return record

    def changed_fields(self) -> set[str] | None:
        """Fields (attnames) whose value differs from what was loaded; None when the record was
        not loaded from the database or not in full."""
        loaded = getattr(self, "_loaded_values", None)
        if loaded is None:
            return None
        fields = [f.attname for f in self._meta.concrete_fields]
        if any(name not in loaded for name in fields):
            return None
        return {name for name in fields if getattr(self, name) != loaded[name]}

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        self.mark_saved()  # after every post_save receiver has compared

    # Oscar's allocation steps update the row and send post_save themselves.
    def allocate(self, quantity):
        """Oscar's allocation: an atomic increment between its pre_save and post_save
        signals (see allocate_many)."""
        type(self).allocate_many([(self, quantity)])

    @classmethod
    def allocate_many(cls, quantities) -> None:
        """Allocate (stock record, quantity) pairs, as Oscar's `allocate` does each record, in
        one statement that reads the new counts back (RETURNING): placing an order allocates
        all its lines at once. Rows are locked in primary-key order, so two orders allocating
        the same records never deadlock. Records whose product does not track stock are
        left alone; a record listed twice is allocated the sum."""
        wanted: dict[int, int] = {}
        records: dict[int, StockRecord] = {}
        for record, quantity in quantities:
            if record.can_track_allocations:
                wanted[record.pk] = wanted.get(record.pk, 0) + quantity
                records.setdefault(record.pk, record)
        if not wanted:
            return
        for record in records.values():
            record.pre_save_signal()
        ids = sorted(wanted)
        allocated = _allocated(cls._meta.db_table, [(pk, wanted[pk]) for pk in ids])
        gone = set(ids) - allocated.keys()
        if gone:
            raise cls.DoesNotExist(f"Stock records {sorted(gone)} no longer exist.")
        for pk in ids:
            record = records[pk]
            record.num_allocated = allocated[pk]
            record.post_save_signal()
            record.mark_saved()

    def consume_allocation(self, quantity):
        super().consume_allocation(quantity)
        self.mark_saved()

    def cancel_allocation(self, quantity):
        super().cancel_allocation(quantity)
        self.mark_saved()

    def loaded_value(self, attname: str):
        """A field's value as loaded (or last saved); KeyError when that is not known."""
        loaded = getattr(self, "_loaded_values", None)
        if loaded is None:
            raise KeyError(attname)
        return loaded[attname]

    def mark_saved(self) -> None:
        """What is in the database now is what this object holds."""
        self._loaded_values = {
            f.attname: getattr(self, f.attname) for f in self._meta.concrete_fields
        }


def _allocated(table: str, wanted: list[tuple[int, int]]) -> dict[int, int]:
    """Add each (id, quantity) to the row's num_allocated; the new counts by id."""
    table = connection.ops.quote_name(table)
    with connection.cursor() as cursor:
        values = ", ".join(["(%s::integer, %s::integer)"] * len(wanted))
        cursor.execute(
            f"WITH locked AS (SELECT id FROM {table} WHERE id = ANY(%s::integer[])"
            " ORDER BY id FOR UPDATE)"
            f" UPDATE {table} AS record"
            " SET num_allocated = COALESCE(record.num_allocated, 0) + wanted.quantity"
            f" FROM (VALUES {values}) AS wanted (id, quantity), locked"
            " WHERE record.id = wanted.id AND locked.id = record.id"
            " RETURNING record.id, record.num_allocated",
            [[pk for pk, _ in wanted], *(n for pair in wanted for n in pair)],
        )
        return dict(cursor.fetchall())


from oscar.apps.partner.models import *  # noqa: E402,F403
