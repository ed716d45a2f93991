"""Catalogue changes: loading the demo catalogue from data, attaching generated product images.

``catalogue_load`` reads the schema of ``fixtures/catalogue.json``::

    {
      "version": 1,
      "currency": "GBP",                         # stock record currency
      "partner": "Marlow & Vale Workshop",       # Partner, found by name
      "product_class": {                         # found by slug
        "name": "Leather goods", "slug": "leather-goods",
        "requires_shipping": true, "track_stock": true,
        "attributes": [                          # found by (product class, code)
          {"code": "line", "name": "Line", "type": "option",
           "option_group": "Line", "options": ["Evergreen", "Heritage"]},   # group by name
          {"code": "carbon_footprint", "name": "...", "type": "float"}, ...
        ]
      },
      "categories": [                            # found by slug path ("bags", "bags/totes")
        {"name": "Bags", "slug": "bags", "description": "...", "children": [...]}
      ],
      "fact_sets": {"evergreen-tuscany": {"line": "Evergreen", "tanning_method": "...", ...}},
      "products": [                              # found by upc
        {"upc": "MV-EG-BIF", "title": "...", "description": "...",
         "category": "wallets",                  # or "categories": ["wallets", ...] (slug paths)
         "facts": "evergreen-tuscany",           # fact set, merged under "attributes"
         "attributes": {"recycled_content": 15, "carbon_footprint": 1.9},
         "shape": "wallet",                      # image generator silhouette
         # either colour variants (the product becomes a parent) ...
         "children": [{"upc": "MV-EG-BIF-01", "colour": "Chestnut", "hex": "#8A4B2A",
                       "title": "(optional, default '<parent title>, <colour>')",
                       "shape": "(optional, default the parent's)",
                       "stock": {"sku": "EG-BIF-CHE", "price": "95.00",
                                 "cost_price": "38.95", "num_in_stock": 18}}],
         # ... or, for a stand-alone product, its own "colour", "hex" and "stock".
        }
      ]
    }

Option values are given by their text; money as strings (read as ``Decimal``). Attribute values
of a parent are shared by its children (Oscar reads a child's missing values from its parent);
children carry only ``colour``. Keys starting with ``_`` are comments.

Loading is an upsert by natural key inside one transaction: a second load of the same data
writes nothing; an edited file updates what changed. The file is the truth for what it lists
(a product's categories are set to exactly the listed ones), and nothing it does not list is
deleted. Stock levels are written when a stock record is created; later loads leave live stock
alone unless ``reset_stock=True``.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from io import BytesIO
from typing import Any

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Model
from django.utils.text import slugify

from shop.catalogue import imagegen
from shop.catalogue.models import (
    EVERGREEN_FACETS,
    AttributeOption,
    AttributeOptionGroup,
    Category,
    Product,
    ProductAttribute,
    ProductCategory,
    ProductClass,
    ProductImage,
)
from shop.catalogue.search import CONFIG, synonym_words
from shop.catalogue.selectors import (
    FILTER_ATTRIBUTES,
    LISTING_PRICE_SQL,
    LISTING_VERSION_KEY,
    listing_version_seen,
)
from shop.partner.models import Partner, StockRecord

logger = logging.getLogger(__name__)

PENNY = Decimal("0.01")
IMAGE_FOLDER = "products"
ATTRIBUTE_TYPES = {
    ProductAttribute.TEXT,
    ProductAttribute.INTEGER,
    ProductAttribute.FLOAT,
    ProductAttribute.OPTION,
}

# Kinds counted in a LoadResult, in the order they are reported.
KINDS = (
    "product_classes",
    "option_groups",
    "options",
    "attributes",
    "categories",
    "partners",
    "products",
    "product_categories",
    "attribute_values",
    "stock_records",
)


class CatalogueDataError(ValueError):
    """The catalogue data is malformed or inconsistent; nothing was written."""


@dataclass
class LoadResult:
    """How many rows of each kind a load created, updated or left unchanged."""

    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)

    def count(self, kind: str, status: str) -> None:
        getattr(self, status)[kind] += 1

    @property
    def changed(self) -> bool:
        return bool(sum(self.created.values()) or sum(self.updated.values()))

    def lines(self) -> Iterator[str]:
        for kind in KINDS:
            yield (
                f"{kind:<19} created {self.created[kind]:>4}  updated {self.updated[kind]:>4}"
                f"  unchanged {self.unchanged[kind]:>4}"
            )


# --- helpers -----------------------------------------------------------------------------


def _upsert(model: type[Model], *, lookup: dict[str, Any], values: dict[str, Any]):
    """Get the row by its natural key and bring ``values`` up to date; save only on change.

    Returns (instance, status) with status "created", "updated" or "unchanged".
    """
    instance = model._default_manager.filter(**lookup).first()
    if instance is None:
        instance = model(**lookup, **values)
        instance.save()
        return instance, "created"
    changed = [name for name, value in values.items() if _differs(instance, name, value)]
    if not changed:
        return instance, "unchanged"
    for name in changed:
        setattr(instance, name, values[name])
    instance.save()
    return instance, "updated"


def _differs(instance: Model, name: str, value: Any) -> bool:
    model_field = instance._meta.get_field(name)
    if model_field.is_relation:
        return getattr(instance, model_field.attname) != (value.pk if value is not None else None)
    return getattr(instance, name) != value


def _money(raw: Any, *, where: str) -> Decimal:
    try:
        amount = Decimal(str(raw))
    except (InvalidOperation, ValueError) as exc:
        raise CatalogueDataError(f"{where}: {raw!r} is not an amount of money") from exc
    if not amount.is_finite() or amount < 0:
        raise CatalogueDataError(f"{where}: {raw!r} is not an amount of money")
    return amount.quantize(PENNY)


def _require(entry: dict, keys: Iterable[str], *, where: str) -> None:
    missing = [key for key in keys if entry.get(key) in (None, "")]
    if missing:
        raise CatalogueDataError(f"{where}: missing {', '.join(missing)}")


def iter_product_entries(data: dict) -> Iterator[tuple[dict, dict | None]]:
    """Every product entry of the data with its parent entry (None for top-level ones)."""
    for entry in data.get("products", []):
        yield entry, None
        for child in entry.get("children", []):
            yield child, entry


def _validate(data: dict) -> None:
    """Refuse data the loader would only half understand, before anything is written."""
    _require(data, ("partner", "product_class", "products"), where="catalogue")
    pclass = data["product_class"]
    _require(pclass, ("name", "slug"), where="product_class")
    codes = {}
    for attribute in pclass.get("attributes", []):
        _require(attribute, ("code", "name", "type"), where="attribute")
        if attribute["type"] not in ATTRIBUTE_TYPES:
            raise CatalogueDataError(f"attribute {attribute['code']}: unsupported type")
        if attribute["type"] == ProductAttribute.OPTION:
            _require(attribute, ("option_group", "options"), where=f"attribute {attribute['code']}")
        codes[attribute["code"]] = attribute
    category_paths = set(_category_paths(data.get("categories", [])))
    fact_sets = data.get("fact_sets", {})
    seen_upcs: set[str] = set()
    seen_skus: set[str] = set()
    for entry, parent in iter_product_entries(data):
        upc = entry.get("upc")
        where = f"product {upc or entry.get('title')!r}"
        _require(entry, ("upc",) if parent else ("upc", "title"), where=where)
        if not entry.get("children"):
            _require(entry, ("stock",), where=where)
        if parent is not None:
            _require(entry, ("colour",), where=where)
        if upc in seen_upcs:
            raise CatalogueDataError(f"{where}: duplicate upc")
        seen_upcs.add(upc)
        if parent is None:
            if entry.get("facts") and entry["facts"] not in fact_sets:
                raise CatalogueDataError(f"{where}: unknown fact set {entry['facts']!r}")
            paths = _entry_category_paths(entry)
            if not paths:
                raise CatalogueDataError(f"{where}: no category")
            for path in paths:
                if path not in category_paths:
                    raise CatalogueDataError(f"{where}: unknown category {path!r}")
        elif entry.get("children") or entry.get("categories") or entry.get("category"):
            raise CatalogueDataError(f"{where}: a colour variant has no children or categories")
        for code, value in _entry_attributes(data, entry).items():
            if code not in codes:
                raise CatalogueDataError(f"{where}: unknown attribute {code!r}")
            options = codes[code].get("options")
            if options is not None and value not in options:
                raise CatalogueDataError(f"{where}: {value!r} is not an option of {code}")
        if "stock" in entry:
            if entry.get("children"):
                raise CatalogueDataError(f"{where}: a parent product has no stock of its own")
            stock = entry["stock"]
            _require(stock, ("sku", "price"), where=f"{where} stock")
            if stock["sku"] in seen_skus:
                raise CatalogueDataError(f"{where}: duplicate sku {stock['sku']!r}")
            seen_skus.add(stock["sku"])
            _money(stock["price"], where=f"{where} price")
            if stock.get("cost_price") is not None:
                _money(stock["cost_price"], where=f"{where} cost_price")


def _category_paths(nodes: list[dict], prefix: str = "") -> Iterator[str]:
    for node in nodes:
        path = f"{prefix}{node.get('slug') or slugify(node['name'])}"
        yield path
        yield from _category_paths(node.get("children", []), prefix=f"{path}/")


def _entry_category_paths(entry: dict) -> list[str]:
    paths = list(entry.get("categories", []))
    if entry.get("category"):
        paths.insert(0, entry["category"])
    return paths


def _entry_attributes(data: dict, entry: dict) -> dict[str, Any]:
    """The attribute values an entry sets on its own product row."""
    values: dict[str, Any] = {}
    if entry.get("facts"):
        values.update(data["fact_sets"][entry["facts"]])
    values.update(entry.get("attributes", {}))
    if entry.get("colour"):
        values["colour"] = entry["colour"]
    return values


# --- loading -----------------------------------------------------------------------------


def catalogue_load(*, data: dict, reset_stock: bool = False) -> LoadResult:
    """Upsert the catalogue described by ``data`` (schema: this module's docstring)."""
    _validate(data)
    result = LoadResult()
    with transaction.atomic():
        product_class, attributes = _load_product_class(data["product_class"], result)
        categories = _load_categories(data.get("categories", []), result)
        partner, status = _upsert(Partner, lookup={"name": data["partner"]}, values={})
        result.count("partners", status)
        for entry in data["products"]:
            product = _load_product(
                data,
                entry,
                product_class=product_class,
                parent=None,
                attributes=attributes,
                result=result,
            )
            _load_product_categories(
                product, [categories[path] for path in _entry_category_paths(entry)], result
            )
            children = entry.get("children", [])
            for child_entry in children:
                child = _load_product(
                    data,
                    child_entry,
                    product_class=None,
                    parent=product,
                    attributes=attributes,
                    result=result,
                )
                _load_stock(data, child_entry, child, partner, reset_stock, result)
            if not children:
                _load_stock(data, entry, product, partner, reset_stock, result)
    upcs = [entry["upc"] for entry, _parent in iter_product_entries(data)]
    search_refresh(
        product_ids=Product.objects.filter(upc__in=upcs).values_list("pk", flat=True),
        rebuild_words=True,
    )
    logger.info(
        "catalogue loaded: created %s, updated %s",
        dict(result.created),
        dict(result.updated),
    )
    return result


def _load_product_class(
    spec: dict, result: LoadResult
) -> tuple[ProductClass, dict[str, ProductAttribute]]:
    product_class, status = _upsert(
        ProductClass,
        lookup={"slug": spec["slug"]},
        values={
            "name": spec["name"],
            "requires_shipping": spec.get("requires_shipping", True),
            "track_stock": spec.get("track_stock", True),
        },
    )
    result.count("product_classes", status)
    attributes = {}
    for attr_spec in spec.get("attributes", []):
        option_group = None
        if attr_spec["type"] == ProductAttribute.OPTION:
            option_group = _load_option_group(
                attr_spec["option_group"], attr_spec["options"], result
            )
        attribute, status = _upsert(
            ProductAttribute,
            lookup={"product_class": product_class, "code": attr_spec["code"]},
            values={
                "name": attr_spec["name"],
                "type": attr_spec["type"],
                "option_group": option_group,
                "required": attr_spec.get("required", False),
            },
        )
        result.count("attributes", status)
        attributes[attribute.code] = attribute
    return product_class, attributes


def _load_option_group(name: str, options: list[str], result: LoadResult) -> AttributeOptionGroup:
    group = AttributeOptionGroup.objects.filter(name=name).order_by("pk").first()
    if group is None:
        group = AttributeOptionGroup.objects.create(name=name)
        result.count("option_groups", "created")
    else:
        result.count("option_groups", "unchanged")
    for option in options:
        _, status = _upsert(AttributeOption, lookup={"group": group, "option": option}, values={})
        result.count("options", status)
    return group


def _load_categories(
    nodes: list[dict], result: LoadResult, parent: Category | None = None, prefix: str = ""
) -> dict[str, Category]:
    """Categories by slug path, added through treebeard's manager (``add_root``/``add_child``;
    treebeard 7 deprecates the model-level ``Category.add_root``)."""
    found: dict[str, Category] = {}
    for node in nodes:
        slug = node.get("slug") or slugify(node["name"])
        if parent is None:
            siblings = Category.objects.get_root_nodes()
        else:
            siblings = Category.objects.get_children(parent)
        category = siblings.filter(slug=slug).first()
        values = {"name": node["name"], "description": node.get("description", "")}
        if category is None:
            new = Category(slug=slug, **values)
            if parent is None:
                category = Category.objects.add_root(instance=new)
            else:
                category = Category.objects.add_child(parent, instance=new)
            status = "created"
        elif any(getattr(category, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(category, key, value)
            category.save(update_fields=list(values))
            status = "updated"
        else:
            status = "unchanged"
        result.count("categories", status)
        path = f"{prefix}{slug}"
        found[path] = category
        found.update(
            _load_categories(node.get("children", []), result, parent=category, prefix=f"{path}/")
        )
    return found


def _load_product(
    data: dict,
    entry: dict,
    *,
    product_class: ProductClass | None,
    parent: Product | None,
    attributes: dict[str, ProductAttribute],
    result: LoadResult,
) -> Product:
    if parent is not None:
        structure = Product.CHILD
        title = entry.get("title") or f"{parent.title}, {entry['colour']}"
    else:
        structure = Product.PARENT if entry.get("children") else Product.STANDALONE
        title = entry["title"]
    product, status = _upsert(
        Product,
        lookup={"upc": entry["upc"]},
        values={
            "title": title,
            "slug": entry.get("slug") or slugify(title),
            "description": entry.get("description", ""),
            "structure": structure,
            "product_class": product_class,
            "parent": parent,
            "is_public": entry.get("is_public", True),
        },
    )
    result.count("products", status)
    _load_attribute_values(product, _entry_attributes(data, entry), attributes, result)
    return product


def _load_attribute_values(
    product: Product,
    values: dict[str, Any],
    attributes: dict[str, ProductAttribute],
    result: LoadResult,
) -> None:
    """Set attribute values through Oscar's ``product.attr`` container, writing only changes."""
    current = {value.attribute.code: value for value in product.attribute_values.all()}
    dirty = False
    for code, raw in values.items():
        attribute = attributes[code]
        wanted = _attribute_value(attribute, raw)
        existing = current.get(code)
        if existing is not None and _same_value(attribute, existing.value, wanted):
            result.count("attribute_values", "unchanged")
            continue
        result.count("attribute_values", "created" if existing is None else "updated")
        setattr(product.attr, code, wanted)
        dirty = True
    if dirty:
        product.attr.save()


def _attribute_value(attribute: ProductAttribute, raw: Any) -> Any:
    if attribute.type == ProductAttribute.OPTION:
        return attribute.option_group.options.get(option=raw)
    if attribute.type == ProductAttribute.INTEGER:
        return int(raw)
    if attribute.type == ProductAttribute.FLOAT:
        return float(raw)
    return str(raw)


def _same_value(attribute: ProductAttribute, current: Any, wanted: Any) -> bool:
    if attribute.type == ProductAttribute.OPTION:
        return getattr(current, "pk", None) == wanted.pk
    if attribute.type == ProductAttribute.FLOAT:
        return current is not None and abs(float(current) - wanted) < 1e-9
    return current == wanted


def _load_product_categories(
    product: Product, categories: list[Category], result: LoadResult
) -> None:
    wanted = {category.pk for category in categories}
    links = ProductCategory.objects.filter(product=product)
    stale = links.exclude(category_id__in=wanted)
    if stale.exists():
        stale.delete()
    have = set(links.values_list("category_id", flat=True))
    for category in categories:
        if category.pk in have:
            result.count("product_categories", "unchanged")
        else:
            ProductCategory.objects.create(product=product, category=category)
            result.count("product_categories", "created")


def _load_stock(
    data: dict,
    entry: dict,
    product: Product,
    partner: Partner,
    reset_stock: bool,
    result: LoadResult,
) -> None:
    stock = entry["stock"]
    where = f"product {entry['upc']!r}"
    values: dict[str, Any] = {
        "product": product,
        "price": _money(stock["price"], where=f"{where} price"),
        "price_currency": data.get("currency", "GBP"),
        "cost_price": (
            _money(stock["cost_price"], where=f"{where} cost_price")
            if stock.get("cost_price") is not None
            else None
        ),
    }
    num_in_stock = int(stock.get("num_in_stock", 0))
    exists = StockRecord.objects.filter(partner=partner, partner_sku=stock["sku"]).exists()
    if reset_stock or not exists:
        values["num_in_stock"] = num_in_stock
    _, status = _upsert(
        StockRecord, lookup={"partner": partner, "partner_sku": stock["sku"]}, values=values
    )
    result.count("stock_records", status)


# --- generated images --------------------------------------------------------------------


@dataclass
class ImageResult:
    """What an image run did: files drawn, ProductImage rows created/updated/unchanged."""

    drawn: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ImageSpec:
    upc: str
    title: str
    shape: str
    hex: str
    thread: str | None


def image_specs(*, data: dict) -> dict[str, ImageSpec]:
    """The drawing of every product in the data by UPC; parents take their first colour's."""
    specs: dict[str, ImageSpec] = {}
    for entry in data.get("products", []):
        thread = imagegen.thread_for_line(_entry_attributes(data, entry).get("line", ""))
        variants = []
        for child in entry.get("children", []):
            _require(child, ("upc", "colour", "hex"), where=f"product {child.get('upc')!r}")
            shape = child.get("shape") or entry.get("shape")
            _require({"shape": shape}, ("shape",), where=f"product {child['upc']!r}")
            variants.append(
                ImageSpec(
                    upc=child["upc"],
                    title=child.get("title") or f"{entry['title']}, {child['colour']}",
                    shape=shape,
                    hex=child["hex"],
                    thread=thread,
                )
            )
        specs.update((variant.upc, variant) for variant in variants)
        if variants:  # a parent shows its first colour
            first = variants[0]
            shape, hex_colour = first.shape, first.hex
        else:
            _require(entry, ("upc", "shape", "hex"), where=f"product {entry.get('upc')!r}")
            shape, hex_colour = entry["shape"], entry["hex"]
        specs[entry["upc"]] = ImageSpec(
            upc=entry["upc"], title=entry["title"], shape=shape, hex=hex_colour, thread=thread
        )
    return specs


def image_name(*, upc: str) -> str:
    return f"{IMAGE_FOLDER}/{upc.lower()}.png"


def catalogue_images_generate(
    *, data: dict, upcs: Collection[str] | None = None, redraw: bool = False
) -> ImageResult:
    """Draw each product's image into MEDIA_ROOT/products/<upc>.png and attach it as the
    product's primary ProductImage (display order 0, caption = title).

    Idempotent: a file is drawn only when missing (or ``redraw``), and the ProductImage row is
    found by its file name, so reruns neither duplicate rows nor redraw existing files.
    Only products present in the database and described in ``data`` are drawn.
    """
    specs = image_specs(data=data)
    result = ImageResult()
    wanted = set(specs) if upcs is None else set(upcs)
    products = Product.objects.filter(upc__in=wanted).only("pk", "upc", "title", "structure")
    rendered: dict[tuple, bytes] = {}
    for product in products.order_by("upc"):
        spec = specs.get(product.upc)
        if spec is None:
            result.skipped.append(product.upc)
            continue
        name = image_name(upc=product.upc)
        if redraw or not default_storage.exists(name):
            key = (spec.shape, spec.hex, spec.thread)
            if key not in rendered:
                rendered[key] = _render_png(spec)
                result.drawn += 1
            if default_storage.exists(name):
                default_storage.delete(name)
            saved = default_storage.save(name, ContentFile(rendered[key]))
            if saved != name:  # pragma: no cover - storage renamed under a race
                raise RuntimeError(f"storage saved {name} as {saved}")
        title = product.title or spec.title
        with transaction.atomic():
            _, status = _upsert(
                ProductImage,
                lookup={"product": product, "original": name},
                values={"caption": title[:200], "display_order": 0},
            )
        setattr(result, status, getattr(result, status) + 1)
    result.skipped.extend(sorted(wanted - set(products.values_list("upc", flat=True))))
    return result


def _render_png(spec: ImageSpec) -> bytes:
    image = imagegen.render_product_image(shape=spec.shape, hex_colour=spec.hex, thread=spec.thread)
    buffer = BytesIO()
    image.save(buffer, format="PNG", compress_level=imagegen.PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


# --- search documents (shop.catalogue.search) ---------------------------------------------

# The text of a product's weights B (categories: its own, or its parent's for a variant) and
# C (attribute values, its variants' included: line, tanning, colours...; and its UPC), in
# a fixed order so that a product's document does not depend on how its rows lie on disk.
_CATEGORY_TEXT = """
    coalesce((SELECT string_agg(c.name, ' ' ORDER BY c.path)
              FROM catalogue_productcategory pc
              JOIN catalogue_category c ON c.id = pc.category_id
              WHERE pc.product_id = coalesce(p.parent_id, p.id)), '')
"""
_ATTRIBUTE_TEXT = """
    coalesce((SELECT string_agg(concat_ws(' ', v.value_text, o.option), ' ' ORDER BY own.id, v.id)
              FROM (SELECT p.id AS id UNION ALL
                    SELECT k.id FROM catalogue_product k WHERE k.parent_id = p.id) AS own
              JOIN catalogue_productattributevalue v ON v.product_id = own.id
              LEFT JOIN catalogue_attributeoption o ON o.id = v.value_option_id), '')
"""
# The listing facts (Product's docstring): the lowest price of its own stock records, else of
# its variants'; its filter attributes' options; its categories (its parent's for a variant)
# and each one's ancestors, so "in this category or below" is one array containment.
_LISTING_PRICE = LISTING_PRICE_SQL.format(product="p")
_LISTING_FACETS = f"""
    coalesce((SELECT jsonb_object_agg(a.code, o.option ORDER BY a.code, v.id)
              FROM catalogue_productattributevalue v
              JOIN catalogue_productattribute a ON a.id = v.attribute_id
              JOIN catalogue_attributeoption o ON o.id = v.value_option_id
              WHERE v.product_id = p.id
                AND a.code IN ({", ".join(f"'{code}'" for code in FILTER_ATTRIBUTES.values())})),
             '{{{{}}}}'::jsonb)
"""
_LISTING_CATEGORIES = """
    coalesce((SELECT array_agg(DISTINCT a.id ORDER BY a.id)
              FROM catalogue_productcategory pc
              JOIN catalogue_category c ON c.id = pc.category_id
              JOIN catalogue_category a ON left(c.path, length(a.path)) = a.path
              WHERE pc.product_id = coalesce(p.parent_id, p.id)), '{{}}'::int[])
"""
_REFRESH_SQL = f"""
    UPDATE catalogue_product AS p SET
        search_vector =
            setweight(to_tsvector('{{config}}', coalesce(p.title, '')), 'A')
            || setweight(to_tsvector('{{config}}', {_CATEGORY_TEXT}), 'B')
            || setweight(to_tsvector('{{config}}', {_ATTRIBUTE_TEXT} || ' ' || p.upc), 'C')
            || setweight(to_tsvector('{{config}}', coalesce(p.description, '')), 'D'),
        listing_price = {_LISTING_PRICE},
        listing_facets = {_LISTING_FACETS},
        listing_categories = {_LISTING_CATEGORIES},
        search_dirty = false
    WHERE p.id IN (SELECT id FROM catalogue_product WHERE {{where}} ORDER BY id LIMIT %s
                   FOR UPDATE SKIP LOCKED)
    RETURNING p.id, coalesce(p.parent_id, p.id)
"""
# Each refreshed product's places in its categories' listings (models.ListingEntry), written
# anew from the listing facts just refreshed; variants have none (they are not listed).
_ENTRIES_DELETE_SQL = "DELETE FROM catalogue_listingentry WHERE product_id = ANY(%s)"
_ENTRIES_INSERT_SQL = """
    INSERT INTO catalogue_listingentry
        (category_id, product_id, is_evergreen, date_created, price, title, facets)
    SELECT c.id, p.id, p.listing_facets @> %s::jsonb, p.date_created, p.listing_price, p.title,
           p.listing_facets
    FROM catalogue_product p
    CROSS JOIN LATERAL unnest(p.listing_categories) AS listed(category_id)
    JOIN catalogue_category c ON c.id = listed.category_id
    WHERE p.parent_id IS NULL AND {where}
"""
# Unstemmed words of titles, categories and attributes of browsable-shaped products (no
# variants: their words are their parent's), with how many products use each; {where}
# narrows the products read (ids written into the statement: ts_stat takes a query text).
_WORDS_SQL = f"""
    INSERT INTO catalogue_searchword (word, products)
    SELECT left(word, 64), ndoc FROM ts_stat($stat$
        SELECT to_tsvector('simple', unaccent(concat_ws(' ', p.title, {_CATEGORY_TEXT},
                                                        {_ATTRIBUTE_TEXT})))
        FROM catalogue_product p WHERE p.parent_id IS NULL AND {{where}}
    $stat$)
    WHERE length(word) >= 3 AND word !~ '^[0-9]+$'
    ON CONFLICT (word) DO {{on_conflict}}
"""
SEARCH_REFRESH_BATCH = 1000


def search_refresh(
    *,
    product_ids: Collection[int] | None = None,
    rebuild_words: bool = False,
    entries: bool = True,
) -> int:
    """Rebuild the search documents of ``product_ids``, or of every product marked dirty, in
    batches (each its own transaction; rows another refresh holds are skipped, it does them),
    and add the words of the products refreshed to the vocabulary; ``rebuild_words``: make
    the vocabulary anew instead (the loader, `refresh_search --all`: words no product uses
    any more go); with them, the products' listing entries (``entries``: not before the
    migration that makes their table). Returns how many products were refreshed."""
    if product_ids is not None:
        ids = sorted(set(product_ids))
        step = SEARCH_REFRESH_BATCH
        batches = (ids[i : i + step] for i in range(0, len(ids), step))
        work = (("id = ANY(%s)", [batch, len(batch)]) for batch in batches)
    else:
        work = _dirty_batches()
    done, owners = 0, set()
    with connection.cursor() as cursor:
        for where, params in work:
            with transaction.atomic():
                cursor.execute(_REFRESH_SQL.format(config=CONFIG, where=where), params)
                rows = cursor.fetchall()
                refreshed = [row[1] for row in rows]
                if rows and entries:
                    listing_entries_write(cursor, [row[0] for row in rows])
            done += len(refreshed)
            owners.update(refreshed)
            if product_ids is None and len(refreshed) < SEARCH_REFRESH_BATCH:
                break
        if owners and not rebuild_words:
            listed = ",".join(str(int(pk)) for pk in owners)
            where = f"p.id = ANY('{{{listed}}}'::int[])"
            cursor.execute(_WORDS_SQL.format(where=where, on_conflict="NOTHING"))
    if rebuild_words:
        search_words_rebuild()
    if done or rebuild_words:
        listing_version_bump()
    return done


def listing_entries_write(cursor, product_ids: list[int] | None) -> None:
    """The listing entries of ``product_ids`` (None: of every product) written anew from
    their listing facts (in the caller's transaction)."""
    evergreen = json.dumps(EVERGREEN_FACETS)
    if product_ids is None:
        cursor.execute("DELETE FROM catalogue_listingentry")
        cursor.execute(_ENTRIES_INSERT_SQL.format(where="true"), [evergreen])
        return
    cursor.execute(_ENTRIES_DELETE_SQL, [product_ids])
    cursor.execute(_ENTRIES_INSERT_SQL.format(where="p.id = ANY(%s)"), [evergreen, product_ids])


def listing_version_bump() -> None:
    """What listings filter, sort and count on has changed (selectors.listing_version): now,
    and again at the commit of the transaction around this one, if any (what other requests
    cached meanwhile from the rows as they were); one commit callback per transaction."""
    _listing_version_set()
    connection_ = transaction.get_connection()
    if connection_.in_atomic_block and not any(
        entry[1] is _listing_version_set for entry in connection_.run_on_commit
    ):
        transaction.on_commit(_listing_version_set)


def _listing_version_set() -> None:
    version = str(time.time_ns())
    try:
        cache.set(LISTING_VERSION_KEY, version, timeout=None)
    except Exception:  # the cache backend's own errors (redis.ConnectionError...)
        logger.warning("could not move the listing version", exc_info=True)
        version = None
    listing_version_seen(version)


def _dirty_batches():
    while True:
        yield "search_dirty", [SEARCH_REFRESH_BATCH]


def search_words_rebuild() -> None:
    """The vocabulary made anew from every product (dropping words no product uses any more)
    and the synonym list's words."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM catalogue_searchword")
        cursor.execute(
            _WORDS_SQL.format(where="true", on_conflict="UPDATE SET products = EXCLUDED.products")
        )
        cursor.execute(
            "INSERT INTO catalogue_searchword (word, products)"
            " SELECT unnest(%s::text[]), 0 ON CONFLICT (word) DO NOTHING",
            [sorted(synonym_words())],
        )


def search_mark_dirty(*, product_ids: Collection[int]) -> int:
    """Mark these products' search documents (and their parents') for the next refresh."""
    ids = list({pk for pk in product_ids if pk is not None})
    if not ids:
        return 0
    # One array parameter, not one per id: a catalogue load of 20,000 products marks more ids
    # than a statement may carry parameters (65,535).
    table = Product._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} SET search_dirty = true
             WHERE NOT search_dirty
               AND (id = ANY(%(ids)s)
                    OR id IN (SELECT parent_id FROM {table}
                               WHERE id = ANY(%(ids)s) AND parent_id IS NOT NULL))
            """,
            {"ids": ids},
        )
        return cursor.rowcount
