"""The demo catalogue file, its idempotent loader and the generated product images."""

import copy
import json
import re
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from PIL import Image

from shop.catalogue import imagegen
from shop.catalogue.models import (
    AttributeOption,
    AttributeOptionGroup,
    Category,
    Product,
    ProductAttribute,
    ProductAttributeValue,
    ProductCategory,
    ProductClass,
    ProductImage,
)
from shop.catalogue.services import (
    CatalogueDataError,
    catalogue_images_generate,
    catalogue_load,
    image_specs,
    iter_product_entries,
)
from shop.partner.models import Partner, StockRecord

FIXTURE = Path(django_settings.BASE_DIR) / "fixtures" / "catalogue.json"
ATTRIBUTE_CODES = {
    "line",
    "leather_origin",
    "tannery",
    "tanning_method",
    "certification",
    "recycled_content",
    "repairability",
    "end_of_life",
    "carbon_footprint",
    "colour",
}
FACTS = sorted(ATTRIBUTE_CODES - {"colour"})
MODELS = (
    ProductClass,
    ProductAttribute,
    AttributeOptionGroup,
    AttributeOption,
    Category,
    Partner,
    Product,
    ProductCategory,
    ProductAttributeValue,
    StockRecord,
)


@pytest.fixture(scope="module")
def raw_data() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture
def data(raw_data) -> dict:
    return copy.deepcopy(raw_data)


@pytest.fixture
def loaded(db, data):
    return catalogue_load(data=data)


def _row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def _entry(data: dict, upc: str) -> dict:
    return next(entry for entry, _ in iter_product_entries(data) if entry["upc"] == upc)


# --- the file ----------------------------------------------------------------------------


def test_fixture_describes_a_full_catalogue(raw_data):
    products = raw_data["products"]
    assert len(products) >= 26
    assert {p["category"] for p in products} == {c["slug"] for c in raw_data["categories"]}
    lines = {raw_data["fact_sets"][p["facts"]]["line"] for p in products}
    assert lines == {"Evergreen", "Heritage"}
    parents = [p for p in products if p.get("children")]
    assert len(parents) >= 6
    assert all(2 <= len(p["children"]) <= 4 for p in parents)
    attributes = raw_data["product_class"]["attributes"]
    assert {a["code"] for a in attributes} == ATTRIBUTE_CODES
    for product in products:
        sentences = re.findall(r"[.?]( |$)", product["description"])
        assert 2 <= len(sentences) <= 4, product["upc"]
    texts = [p["description"] for p in products]
    texts += [c["description"] for c in raw_data["categories"]]
    assert not any("!" in text for text in texts)


def test_fixture_gives_every_picture_a_known_shape_and_its_own_look(raw_data):
    leaves = [e for e, _ in iter_product_entries(raw_data) if not e.get("children")]
    specs = image_specs(data=raw_data)
    assert set(specs) == {e["upc"] for e, _ in iter_product_entries(raw_data)}
    looks = [(specs[e["upc"]].shape, specs[e["upc"]].hex) for e in leaves]
    assert len(set(looks)) == len(looks), "two products would get the same picture"
    for shape, hex_colour in looks:
        assert shape in imagegen.SHAPES
        assert re.fullmatch(r"#[0-9A-Fa-f]{6}", hex_colour)
    for parent in (p for p in raw_data["products"] if p.get("children")):
        first = specs[parent["children"][0]["upc"]]
        assert (specs[parent["upc"]].shape, specs[parent["upc"]].hex) == (first.shape, first.hex)


# --- loading -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_file_loads(loaded, data):
    entries = list(iter_product_entries(data))
    assert loaded.created["products"] == len(entries) == Product.objects.count()
    assert Product.objects.browsable().count() >= 24
    roots = Category.objects.get_root_nodes()
    assert roots.count() >= 5
    assert set(roots.values_list("name", flat=True)) >= {
        "Wallets",
        "Card holders",
        "Bags",
        "Belts",
        "Small accessories",
    }
    assert all(category.description for category in roots)
    for product in Product.objects.browsable():
        assert product.categories.exists(), product.upc
    product_class = ProductClass.objects.get(slug="leather-goods")
    assert product_class.name == "Leather goods"
    assert product_class.requires_shipping and product_class.track_stock
    assert set(product_class.attributes.values_list("code", flat=True)) == ATTRIBUTE_CODES
    line = product_class.attributes.get(code="line")
    assert line.type == "option" and line.option_group.name == "Line"
    assert set(line.option_group.options.values_list("option", flat=True)) == {
        "Evergreen",
        "Heritage",
    }


@pytest.mark.django_db
def test_parents_have_colour_children_with_their_own_stock(loaded):
    parents = Product.objects.filter(structure=Product.PARENT)
    assert parents.count() >= 6
    for parent in parents:
        assert not parent.stockrecords.exists()
        children = list(parent.children.all())
        assert 2 <= len(children) <= 4, parent.upc
        colours = set()
        for child in children:
            assert child.product_class is None
            assert child.upc and child.upc != parent.upc
            assert child.stockrecords.count() == 1
            colours.add(child.attr.colour)
        assert len(colours) == len(children), parent.upc


@pytest.mark.django_db
def test_every_stock_record_is_priced_with_a_cost_of_30_to_45_percent(loaded):
    sellable = Product.objects.exclude(structure=Product.PARENT)
    assert StockRecord.objects.count() == sellable.count()
    for record in StockRecord.objects.select_related("partner", "product"):
        assert record.partner.name == "Marlow & Vale Workshop"
        assert record.price_currency == "GBP"
        assert record.partner_sku
        assert record.num_in_stock > 0
        assert isinstance(record.price, Decimal) and record.price > 0
        ratio = record.cost_price / record.price
        assert Decimal("0.30") <= ratio <= Decimal("0.45"), record.partner_sku


@pytest.mark.django_db
def test_brand_prices_are_on_the_shelf(loaded):
    def price(upc: str) -> Decimal:
        product = Product.objects.get(upc=upc)
        if product.is_parent:
            product = product.children.order_by("upc").first()
        return product.stockrecords.get().price

    assert price("MV-EG-CSL") == Decimal("45.00")
    assert price("MV-EG-BIF") == Decimal("95.00")
    assert price("MV-EG-BLT") == Decimal("85.00")
    assert price("MV-EG-TOT") == Decimal("245.00")
    assert price("MV-EG-HOL") == Decimal("495.00")


@pytest.mark.django_db
def test_every_product_has_all_sustainability_facts(loaded):
    for product in Product.objects.all():  # children read their parent's facts
        for code in FACTS:
            assert getattr(product.attr, code, None) not in (None, ""), (product.upc, code)
    evergreen = ProductAttributeValue.objects.filter(
        attribute__code="line", value_option__option="Evergreen"
    ).values("product_id")
    heritage = ProductAttributeValue.objects.filter(
        attribute__code="line", value_option__option="Heritage"
    ).values("product_id")
    assert Product.objects.browsable().filter(pk__in=evergreen).count() >= 10
    assert Product.objects.browsable().filter(pk__in=heritage).count() >= 10
    for product in Product.objects.filter(pk__in=evergreen):
        assert product.attr.tanning_method.option in {"Vegetable-tanned", "Chrome-free (wet-white)"}
        assert product.attr.certification.option == "Leather Working Group Gold"
    for product in Product.objects.filter(pk__in=heritage):
        assert product.attr.tanning_method.option == "Chrome-tanned"
        assert product.attr.recycled_content == 0


@pytest.mark.django_db
def test_loading_twice_changes_nothing(loaded, data):
    counts = _row_counts()
    stamps = dict(Product.objects.values_list("upc", "date_updated"))
    again = catalogue_load(data=data)
    assert not again.changed
    assert sum(again.created.values()) == sum(again.updated.values()) == 0
    assert sum(again.unchanged.values()) == sum(loaded.created.values())
    assert _row_counts() == counts
    assert dict(Product.objects.values_list("upc", "date_updated")) == stamps
    assert Product.objects.filter(upc="MV-EG-BIF-01").count() == 1
    assert Category.objects.filter(slug="wallets").count() == 1


@pytest.mark.django_db
def test_an_edited_file_updates_prices_costs_and_descriptions(loaded, data):
    counts = _row_counts()
    child = _entry(data, "MV-EG-BIF-02")
    child["stock"].update(price="99.00", cost_price="41.00")
    parent = _entry(data, "MV-EG-BIF")
    parent["description"] = "A slim bifold. Made in Walsall."
    parent["attributes"]["carbon_footprint"] = 1.7
    data["categories"][0]["description"] = "Wallets, made by hand."

    result = catalogue_load(data=data)

    assert result.updated["stock_records"] == 1
    assert result.updated["products"] == 1
    assert result.updated["attribute_values"] == 1
    assert result.updated["categories"] == 1
    assert sum(result.created.values()) == 0
    assert _row_counts() == counts
    record = StockRecord.objects.get(partner_sku=child["stock"]["sku"])
    assert (record.price, record.cost_price) == (Decimal("99.00"), Decimal("41.00"))
    product = Product.objects.get(upc="MV-EG-BIF")
    assert product.description == "A slim bifold. Made in Walsall."
    assert product.attr.carbon_footprint == pytest.approx(1.7)
    assert Category.objects.get(slug="wallets").description == "Wallets, made by hand."


@pytest.mark.django_db
def test_reloading_keeps_live_stock_unless_asked(loaded, data):
    entry = _entry(data, "MV-EG-HOL")
    record = StockRecord.objects.get(partner_sku=entry["stock"]["sku"])
    StockRecord.objects.filter(pk=record.pk).update(num_in_stock=1)

    catalogue_load(data=data)
    record.refresh_from_db()
    assert record.num_in_stock == 1

    catalogue_load(data=data, reset_stock=True)
    record.refresh_from_db()
    assert record.num_in_stock == entry["stock"]["num_in_stock"]


@pytest.mark.django_db
def test_moving_a_product_to_another_category_moves_it(loaded, data):
    _entry(data, "MV-EG-PAS")["category"] = "small-accessories"
    catalogue_load(data=data)
    product = Product.objects.get(upc="MV-EG-PAS")
    assert list(product.categories.values_list("slug", flat=True)) == ["small-accessories"]


@pytest.mark.django_db
def test_subcategories_are_found_by_slug_path(data):
    bags = next(c for c in data["categories"] if c["slug"] == "bags")
    bags["children"] = [{"name": "Totes", "slug": "totes", "description": "Open totes."}]
    _entry(data, "MV-EG-TOT")["categories"] = ["bags/totes"]
    catalogue_load(data=data)
    catalogue_load(data=data)
    totes = Category.objects.get(slug="totes")
    assert Category.objects.get_parent(totes).slug == "bags"
    assert totes.full_slug == "bags/totes"
    assert Category.objects.filter(slug="totes").count() == 1
    product = Product.objects.get(upc="MV-EG-TOT")
    assert set(product.categories.values_list("slug", flat=True)) == {"bags", "totes"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d["products"][0].update(category="hats"), "unknown category"),
        (lambda d: d["products"][1].update(upc=d["products"][0]["upc"]), "duplicate upc"),
        (lambda d: d["products"][0]["attributes"].update(line="Budget"), "not an option"),
        (lambda d: d["products"][2]["stock"].update(price="ninety"), "not an amount"),
        (lambda d: d["products"][0]["children"][0].pop("stock"), "missing stock"),
    ],
)
def test_bad_data_is_refused_before_anything_is_written(data, edit, message):
    edit(data)
    with pytest.raises(CatalogueDataError, match=message):
        catalogue_load(data=data)
    assert Product.objects.count() == 0
    assert ProductClass.objects.count() == 0


@pytest.mark.django_db
def test_load_catalogue_command_prints_counts():
    out = StringIO()
    call_command("load_catalogue", str(FIXTURE), stdout=out)
    assert re.search(r"products\s+created\s+\d+", out.getvalue())
    out = StringIO()
    call_command("load_catalogue", stdout=out)
    assert "already up to date" in out.getvalue()


# --- images ------------------------------------------------------------------------------


def test_every_shape_draws():
    for shape in imagegen.SHAPES:
        image = imagegen.render_product_image(shape=shape, hex_colour="#8A4B2A", size=240)
        assert image.size == (240, 240) and image.mode == "RGB"
    with pytest.raises(ValueError, match="unknown shape"):
        imagegen.render_product_image(shape="hat", hex_colour="#8A4B2A")


@pytest.mark.django_db
def test_images_are_drawn_attached_and_not_duplicated(loaded, data, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    upcs = ["MV-EG-HOL", "MV-HE-BLT-01"]

    first = catalogue_images_generate(data=data, upcs=upcs)

    assert (first.drawn, first.created) == (2, 2)
    images = ProductImage.objects.filter(product__upc__in=upcs)
    assert images.count() == 2
    for image in images.select_related("product"):
        assert image.display_order == 0
        assert image.caption == image.product.title
        assert image.original.name == f"products/{image.product.upc.lower()}.png"
        path = tmp_path / image.original.name
        with Image.open(path) as picture:
            assert picture.size == (1200, 1200) and picture.format == "PNG"
    hol = (tmp_path / "products/mv-eg-hol.png").read_bytes()
    assert hol != (tmp_path / "products/mv-he-blt-01.png").read_bytes()
    assert ProductImage.objects.count() == 2  # nothing for products not asked for

    second = catalogue_images_generate(data=data, upcs=upcs)
    assert (second.drawn, second.created, second.unchanged) == (0, 0, 2)
    assert ProductImage.objects.count() == 2

    (tmp_path / "products/mv-eg-hol.png").unlink()
    out = StringIO()
    call_command("generate_product_images", "--upc", "MV-EG-HOL", stdout=out)
    assert "drawn 1" in out.getvalue()
    assert (tmp_path / "products/mv-eg-hol.png").read_bytes() == hol
    assert ProductImage.objects.count() == 2


@pytest.mark.django_db
def test_a_parent_shows_its_first_colour(loaded, data, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    result = catalogue_images_generate(data=data, upcs=["MV-EG-COI", "MV-EG-COI-01"])
    assert (result.drawn, result.created) == (1, 2)
    parent = (tmp_path / "products/mv-eg-coi.png").read_bytes()
    assert parent == (tmp_path / "products/mv-eg-coi-01.png").read_bytes()
    assert Product.objects.get(upc="MV-EG-COI").primary_image().caption == "Evergreen coin purse"
