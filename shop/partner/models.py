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
        """Oscar's allocation (an atomic increment between its pre_save and post_save
        signals), reading the new count back in the same statement instead of a second
        query: every order placed allocates each of its lines."""
        if not self.can_track_allocations:
            return
        self.pre_save_signal()
        table = connection.ops.quote_name(self._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET num_allocated = COALESCE(num_allocated, 0) + %s"
                " WHERE id = %s RETURNING num_allocated",
                [quantity, self.pk],
            )
            row = cursor.fetchone()
        if row is None:
            raise self.DoesNotExist(f"Stock record {self.pk} no longer exists.")
        self.num_allocated = row[0]
        self.post_save_signal()
        self.mark_saved()

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


from oscar.apps.partner.models import *  # noqa: E402,F403
