from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from shop.personalization.forms import LinePersonalizationForm
from shop.personalization.selectors import line_choices, product_personalization_context
from shop.personalization.services import basket_line_personalize


def line_personalize(request, line_id: int):
    """Change the personalization on one of the shopper's own basket lines."""
    basket = request.basket
    if not basket.id:
        return redirect("basket:summary")
    line = get_object_or_404(basket.lines.select_related("product"), pk=line_id)
    form = LinePersonalizationForm(
        request.POST or None, product=line.product, initial_choices=line_choices(line)
    )
    if not form.offers:
        messages.info(request, "This product has no personalization to change.")
        return redirect("basket:summary")
    if request.method == "POST" and form.is_valid():
        basket_line_personalize(basket=basket, line=line, choices=form.choices)
        messages.success(request, f"Your choices for {line.product.get_title()} are updated.")
        return redirect("basket:summary")
    return render(
        request,
        "shop/personalization/line_form.html",
        {
            "line": line,
            "product": line.product,
            "form": form,
            "personalization": product_personalization_context(product=line.product),
        },
        status=400 if request.method == "POST" else 200,
    )
