"""Scale data for the business reports, written with set-based SQL (a minute or two).

    generate_reports_data(customers=20_000, orders=100_000, offline_sales=50_000)

Needs the demo catalogue loaded (its stock records are what is sold). Writes, over the two
years before today: registered customers (80 %) and guests (20 %, by email); paid online
orders with one to three lines, discounts on some, personalizations on a fifth of the lines,
shipping by both methods, Stripe records with fees and some refunds, shipped and promised
dates; cancelled and pending orders that are not sales; offline sales in every channel, a
third with a customer email; and a falling cost price history for every stock record.
Customers are skewed (a few buy a lot), so the whale curve has a shape. Deterministic for a
given seed (PostgreSQL's `setseed`).
"""

from __future__ import annotations

from django.db import connection, transaction

STEPS = [
    (
        "customers",
        """
        INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,
                               is_staff, is_active, date_joined)
        SELECT '!', false, 'rb-' || g, '', '', 'rb-' || g || '@example.com', false, true,
               now() - interval '800 days'
          FROM generate_series(1, %(registered)s) AS g
        """,
    ),
    (
        "customer ids",
        """
        CREATE TEMP TABLE rb_users ON COMMIT DROP AS
        SELECT row_number() OVER (ORDER BY id) AS idx, id
          FROM auth_user WHERE username LIKE 'rb-%%'
        """,
    ),
    (
        "stock",
        """
        CREATE TEMP TABLE rb_stock ON COMMIT DROP AS
        SELECT row_number() OVER (ORDER BY sr.id) AS idx, sr.id, sr.product_id, sr.partner_id,
               sr.partner_sku, sr.price, COALESCE(sr.cost_price, round(sr.price * 0.35, 2)) AS cost,
               p.title, pa.name AS partner_name
          FROM partner_stockrecord sr
          JOIN catalogue_product p ON p.id = sr.product_id
          JOIN partner_partner pa ON pa.id = sr.partner_id
         WHERE sr.price IS NOT NULL
        """,
    ),
    (
        "orders",
        """
        INSERT INTO order_order (number, currency, total_incl_tax, total_excl_tax,
                                 shipping_incl_tax, shipping_excl_tax, shipping_method,
                                 shipping_code, status, guest_email, date_placed,
                                 analytics_tracked, tracking_number, user_id, paid_at,
                                 shipped_at, promised_dispatch_date)
        SELECT 'RB' || lpad(g::text, 7, '0'), 'GBP', 0, 0,
               CASE WHEN next_day THEN 9.50 ELSE 0 END,
               CASE WHEN next_day THEN 7.92 ELSE 0 END,
               CASE WHEN next_day THEN 'Next working day (DPD)' ELSE 'Royal Mail Tracked 48' END,
               CASE WHEN next_day THEN 'dpd-next-day' ELSE 'royal-mail-tracked-48' END,
               status,
               CASE WHEN customer > %(registered)s THEN 'rb-guest-' || customer || '@example.com'
                    ELSE '' END,
               placed, false, '',
               u.id,
               CASE WHEN status NOT IN ('Pending payment', 'Cancelled') THEN placed END,
               CASE WHEN status IN ('Shipped', 'Delivered')
                    THEN placed + (interval '1 hour' * (12 + floor(random() * 140))) END,
               (placed + interval '3 days')::date
          FROM (
            SELECT g,
                   1 + floor(%(customers)s * power(random(), 1.8))::int AS customer,
                   now() - interval '1 minute' * floor(random() * 60 * 24 * 730) AS placed,
                   random() < 0.2 AS next_day,
                   (ARRAY['Delivered', 'Delivered', 'Delivered', 'Delivered', 'Delivered',
                          'Delivered', 'Delivered', 'Delivered', 'Delivered', 'Delivered',
                          'Delivered', 'Delivered', 'Delivered', 'Delivered', 'Shipped',
                          'Paid', 'In workshop', 'Refunded', 'Cancelled', 'Pending payment']
                   )[1 + floor(random() * 20)::int] AS status
              FROM generate_series(1, %(orders)s) AS g
          ) AS o
          LEFT JOIN rb_users u ON u.idx = o.customer AND o.customer <= %(registered)s
        """,
    ),
    (
        "lines",
        """
        INSERT INTO order_line (order_id, partner_id, partner_name, partner_sku,
                                partner_line_reference, partner_line_notes, stockrecord_id,
                                product_id, title, upc, quantity, line_price_incl_tax,
                                line_price_excl_tax, line_price_before_discounts_incl_tax,
                                line_price_before_discounts_excl_tax, unit_price_incl_tax,
                                unit_price_excl_tax, status, num_allocated,
                                allocation_cancelled, unit_cost_price)
        SELECT x.order_id, s.partner_id, s.partner_name, s.partner_sku, '', '', s.id,
               s.product_id, s.title, NULL, x.qty,
               round(s.price * x.qty * x.factor, 2),
               round(s.price * x.qty * x.factor / 1.2, 2),
               s.price * x.qty, round(s.price * x.qty / 1.2, 2),
               s.price, round(s.price / 1.2, 2), '', x.qty, false, s.cost
          FROM (
            SELECT o.id AS order_id, k,
                   1 + floor(random() * (SELECT count(*) FROM rb_stock))::int AS pick,
                   CASE WHEN random() < 0.1 THEN 2 ELSE 1 END AS qty,
                   CASE WHEN random() < 0.12 THEN 0.9 ELSE 1 END AS factor
              FROM order_order o
              CROSS JOIN LATERAL generate_series(
                  1, 1 + (o.id %% 3 = 0)::int + (o.id %% 7 = 0)::int) AS k
             WHERE o.number LIKE 'RB%%'
          ) AS x
          JOIN rb_stock s ON s.idx = x.pick
        """,
    ),
    (
        "personalizations",
        """
        INSERT INTO personalization_orderlinepersonalization
               (line_id, kind, description, surcharge, cost, lead_days, data)
        SELECT l.id, 'monogram', 'Monogram RBX', CASE WHEN l.id %% 3 = 0 THEN 15.00 ELSE 10.00 END,
               CASE WHEN l.id %% 3 = 0 THEN 5.00 ELSE 3.30 END, 3,
               jsonb_build_object('initials', 'RBX',
                                  'style', CASE WHEN l.id %% 3 = 0 THEN 'foil' ELSE 'deboss' END)
          FROM order_line l JOIN order_order o ON o.id = l.order_id
         WHERE o.number LIKE 'RB%%' AND random() < 0.2
        """,
    ),
    (
        "thread colours and gift messages",
        """
        INSERT INTO personalization_orderlinepersonalization
               (line_id, kind, description, surcharge, cost, lead_days, data)
        SELECT l.id, k.kind, k.kind, 0.00, k.cost, k.days, k.data
          FROM order_line l JOIN order_order o ON o.id = l.order_id
         CROSS JOIN (VALUES ('thread', 0.50, 1, '{"colour": "oxblood"}'::jsonb, 11),
                            ('gift_message', 0.30, 0, '{"message": "With love"}'::jsonb, 13)
                    ) AS k (kind, cost, days, data, every)
         WHERE o.number LIKE 'RB%%' AND l.id %% k.every = 0
        """,
    ),
    (
        "order totals",
        """
        UPDATE order_order o
           SET total_excl_tax = t.net + o.shipping_excl_tax,
               total_incl_tax = t.gross + o.shipping_incl_tax
          FROM (SELECT order_id, SUM(line_price_excl_tax) AS net,
                       SUM(line_price_incl_tax) AS gross
                  FROM order_line GROUP BY order_id) t
         WHERE t.order_id = o.id AND o.number LIKE 'RB%%'
        """,
    ),
    (
        "payments",
        """
        INSERT INTO payments_paymentintentrecord
               (payment_intent_id, order_number, amount, currency, status, last_payment_error,
                amount_refunded, fee, fee_source, created_at, updated_at)
        SELECT 'pi_' || o.number, o.number, o.total_incl_tax, 'gbp', 'succeeded', '',
               CASE WHEN o.status = 'Refunded' THEN o.total_incl_tax
                    WHEN random() < 0.04 THEN round(o.total_incl_tax * 0.3, 2) ELSE 0 END,
               round(o.total_incl_tax * 0.015 + 0.20, 2), 'rate',
               o.date_placed, o.date_placed
          FROM order_order o
         WHERE o.number LIKE 'RB%%' AND o.paid_at IS NOT NULL
        """,
    ),
    (
        "offline sales",
        """
        INSERT INTO reports_offlinesale (channel_id, reference, day, sku, stockrecord_id,
                                         product_id, quantity, net_amount, customer_email,
                                         created_at)
        SELECT c.id, 'RB-' || x.g, x.day, s.partner_sku, s.id, s.product_id, x.qty,
               round(s.price * x.qty / 1.2 * CASE WHEN c.code = 'wholesale' THEN 0.55
                                                  ELSE 1 END, 2),
               CASE WHEN x.with_email
                    THEN 'rb-' || (1 + floor(random() * %(customers)s)::int) || '@example.com'
                    ELSE '' END,
               now()
          FROM (
            SELECT g, (current_date - floor(random() * 730)::int) AS day,
                   1 + floor(random() * (SELECT count(*) FROM rb_stock))::int AS pick,
                   1 + floor(random() * 4)::int AS channel_pick,
                   1 + floor(power(random(), 3) * 10)::int AS qty,
                   random() < 0.33 AS with_email
              FROM generate_series(1, %(offline_sales)s) AS g
          ) AS x
          JOIN rb_stock s ON s.idx = x.pick
          JOIN (SELECT id, code, row_number() OVER (ORDER BY id) AS n
                  FROM reports_channel WHERE NOT is_online) c ON c.n = x.channel_pick
        """,
    ),
    (
        "cost history",
        """
        INSERT INTO reports_costpricerecord (stockrecord_id, cost_price, changed_at, source)
        SELECT s.id, round(s.cost * (1.12 - 0.04 * k), 2),
               now() - interval '730 days' + interval '1 day' * (k * 146), 'bench'
          FROM rb_stock s CROSS JOIN generate_series(0, 4) AS k
        """,
    ),
    (
        "statistics",
        "ANALYZE",
    ),
]


def generate_reports_data(
    *,
    customers: int = 20_000,
    orders: int = 100_000,
    offline_sales: int = 50_000,
    seed: float = 0.1962,
    log=print,
) -> None:
    import time

    registered = customers * 4 // 5
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [seed])
        params = {
            "customers": customers,
            "registered": registered,
            "orders": orders,
            "offline_sales": offline_sales,
        }
        for name, sql in STEPS:
            if name == "statistics":
                continue
            started = time.monotonic()
            cursor.execute(sql, params)
            log(f"  {name:<18} {cursor.rowcount:>8} rows  {time.monotonic() - started:6.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
