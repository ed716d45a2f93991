"""Reports: sales channels, imported offline sales, staff-set targets and the history of cost
prices (what a parcel costs us is shipping.ParcelCost).

Online orders are Oscar's own; everything sold elsewhere (boutique, wholesale, marketplace,
events) arrives as CSV and lands in `OfflineSale`, one row per sale line, identified by its
channel and reference so that importing a file twice never doubles a sale.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

MONEY = {"max_digits": 12, "decimal_places": 2}


class Channel(models.Model):
    """Where a sale was made. `online` is the store itself; the others come from CSV."""

    ONLINE = "online"

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=60)
    is_online = models.BooleanField(default=False)
    display_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("display_order", "code")
        permissions = [
            ("view_business_reports", "Can view the business reports"),
            ("import_offline_sales", "Can import offline sales"),
        ]

    def __str__(self) -> str:
        return self.name


class SalesImport(models.Model):
    """One CSV upload (dashboard or management command) and what became of it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        REJECTED = "rejected", "Rejected (nothing imported)"
        FAILED = "failed", "Failed"

    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    # The raw file, kept until the import has run (large files are imported by a worker).
    content = models.BinaryField(null=True, blank=True, editable=False)
    skip_bad_rows = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    rows_total = models.PositiveIntegerField(default=0)
    rows_processed = models.PositiveIntegerField(default=0)
    rows_imported = models.PositiveIntegerField(default=0)
    rows_already_imported = models.PositiveIntegerField(default=0)
    rows_bad = models.PositiveIntegerField(default=0)
    # [{"line": 7, "errors": ["..."]}, ...] capped; `rows_bad` has the full count.
    errors = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def progress_percent(self) -> int:
        if not self.rows_total:
            return 100 if self.status in (self.Status.DONE, self.Status.REJECTED) else 0
        return min(100, round(100 * self.rows_processed / self.rows_total))


class OfflineSale(models.Model):
    """One sale line made outside the online store, as imported from CSV."""

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="sales")
    reference = models.CharField(max_length=64)
    day = models.DateField(db_index=True)
    sku = models.CharField(max_length=128)
    stockrecord = models.ForeignKey(
        "partner.StockRecord", on_delete=models.PROTECT, related_name="offline_sales"
    )
    product = models.ForeignKey(
        "catalogue.Product", on_delete=models.PROTECT, related_name="offline_sales"
    )
    quantity = models.PositiveIntegerField()
    net_amount = models.DecimalField("net amount (GBP, excl. VAT)", **MONEY)
    customer_email = models.EmailField(blank=True)
    sales_import = models.ForeignKey(
        SalesImport, null=True, blank=True, on_delete=models.SET_NULL, related_name="sales"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("day", "pk")
        constraints = [
            models.UniqueConstraint(fields=("channel", "reference"), name="offline_sale_once"),
            models.CheckConstraint(
                name="offline_sale_quantity_positive", condition=Q(quantity__gt=0)
            ),
            models.CheckConstraint(
                name="offline_sale_amount_not_negative", condition=Q(net_amount__gte=0)
            ),
        ]
        indexes = [models.Index(fields=("customer_email",), name="offline_sale_email")]

    def __str__(self) -> str:
        return f"{self.channel.code} {self.reference}"


class OnlineShareTarget(models.Model):
    """The online share of revenue staff aim at, from a date on (the latest one applies)."""

    valid_from = models.DateField(unique=True)
    share_percent = models.DecimalField(max_digits=5, decimal_places=2)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-valid_from",)
        constraints = [
            models.CheckConstraint(
                name="target_share_0_100",
                condition=Q(share_percent__gte=0) & Q(share_percent__lte=100),
            )
        ]


class SustainableProjection(models.Model):
    """Projected revenue (excl. VAT, all channels) of the sustainable line for one month."""

    month = models.DateField(unique=True, help_text="First day of the month.")
    revenue = models.DecimalField(**MONEY)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("month",)
        constraints = [
            models.CheckConstraint(name="projection_not_negative", condition=Q(revenue__gte=0)),
            models.CheckConstraint(name="projection_first_of_month", condition=Q(month__day=1)),
        ]


class CostPriceRecord(models.Model):
    """A stock record's cost price from `changed_at` on (append-only; the newest row before a
    moment is the cost in effect then). Written whenever the cost price changes, however it
    is saved (catalogue loader, dashboard, admin), and once when the stock record is made."""

    stockrecord = models.ForeignKey(
        "partner.StockRecord", on_delete=models.CASCADE, related_name="cost_history"
    )
    cost_price = models.DecimalField(**MONEY, null=True, blank=True)
    changed_at = models.DateTimeField()
    source = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ("stockrecord", "changed_at", "pk")
        indexes = [
            models.Index(fields=("stockrecord", "changed_at"), name="cost_history_lookup"),
        ]

    def __str__(self) -> str:
        return f"{self.stockrecord_id}: {self.cost_price} from {self.changed_at:%Y-%m-%d}"


class OrderFact(models.Model):
    """One paid online order's figures for the profitability reports (see
    `selectors.FORMULAS`), rebuilt from the orders by `report_facts_refresh` (a Celery job
    every few minutes, after each import, and on demand). A plain table, with no foreign
    keys, so that it never holds up a migration of the tables it is built from."""

    order_id = models.IntegerField(unique=True)
    number = models.CharField(max_length=128)
    customer_key = models.CharField(max_length=300)
    user_id = models.IntegerField(null=True)
    email = models.CharField(max_length=254, blank=True)
    sold_at = models.DateTimeField()
    status = models.CharField(max_length=100)
    units = models.IntegerField()
    gross = models.DecimalField(**MONEY)
    discounts = models.DecimalField(**MONEY)
    net = models.DecimalField(**MONEY)
    cogs = models.DecimalField(**MONEY)
    lines_without_cost = models.IntegerField()
    pers_revenue = models.DecimalField(**MONEY)
    pers_cost = models.DecimalField(**MONEY)
    shipping_charged = models.DecimalField(**MONEY)
    shipping_cost = models.DecimalField(**MONEY)
    fees = models.DecimalField(**MONEY)
    refunds = models.DecimalField(**MONEY)
    margin = models.DecimalField(**MONEY)
    # Dispatch, for on-time figures read from the facts (the personalization report).
    paid_at = models.DateTimeField(null=True)
    personalized = models.BooleanField(default=False)
    promised_dispatch_date = models.DateField(null=True)
    shipped_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=("customer_key", "sold_at"), name="order_fact_customer"),
            models.Index(fields=("sold_at",), name="order_fact_sold_at"),
        ]


class OfflineFact(models.Model):
    """One offline sale with a customer email, with its customer key and cost of goods (cost
    price history on the sale day); rebuilt with `OrderFact`."""

    sale_id = models.IntegerField(unique=True)
    customer_key = models.CharField(max_length=300)
    email = models.CharField(max_length=254)
    day = models.DateField()
    quantity = models.IntegerField()
    net_amount = models.DecimalField(**MONEY)
    cogs = models.DecimalField(**MONEY)

    class Meta:
        indexes = [models.Index(fields=("customer_key", "day"), name="offline_fact_customer")]


class FactsRefresh(models.Model):
    """When the fact tables were last rebuilt (shown on the pages that read them)."""

    refreshed_at = models.DateTimeField()
    seconds = models.DecimalField(max_digits=8, decimal_places=2)
    orders = models.IntegerField()
    offline_sales = models.IntegerField()

    class Meta:
        ordering = ("-refreshed_at",)
        get_latest_by = "refreshed_at"


class LineFact(models.Model):
    """One line of a paid online order, with what the personalization report groups it by:
    its product's class and whether the order was the customer's first paid order. Rebuilt
    with `OrderFact` (same transaction), so it holds the same orders."""

    line_id = models.IntegerField(unique=True)
    order_id = models.IntegerField()
    customer_key = models.CharField(max_length=300)
    sold_at = models.DateTimeField()
    product_id = models.IntegerField()
    product_class = models.CharField(max_length=128)
    quantity = models.IntegerField()
    first_order = models.BooleanField()

    class Meta:
        indexes = [models.Index(fields=("sold_at",), name="line_fact_sold_at")]


class LineChoiceFact(models.Model):
    """One personalization choice recorded on a `LineFact` line, as an option and its value
    (a monogram gives two rows: its style and its position), with the unit surcharge (incl.
    VAT), unit workshop cost and working days added recorded at placement. Rebuilt with
    `LineFact`; `sold_at` and `quantity` repeat the line's so that the per-value figures of a
    period are read without a join."""

    line_id = models.IntegerField()
    sold_at = models.DateTimeField()
    option = models.CharField(max_length=30)
    value = models.CharField(max_length=100)
    quantity = models.IntegerField()
    surcharge = models.DecimalField(**MONEY)
    cost = models.DecimalField(**MONEY)
    lead_days = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=("sold_at",), name="line_choice_fact_sold_at")]
