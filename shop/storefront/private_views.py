"""Thin wrappers over Oscar views: pages that must not say whether something exists
(another customer's guest order or private wishlist is simply not found, 404), rate-limited
forms, and registration through our service (signed in with the request, so django-axes
keeps watching; the welcome email after commit)."""

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse_lazy
from oscar.apps.customer.forms import ProfileForm
from oscar.apps.customer.views import (
    AccountAuthView,
    AccountRegistrationView,
    AnonymousOrderDetailView,
    AnonymousOrderFormView,
    ProfileUpdateView,
)
from oscar.apps.wishlists.views import WishListView
from oscar.core.loading import get_class, get_model
from oscar.views.decorators import login_forbidden

from shop.common.ratelimit import rate_limit_post
from shop.storefront.services import AccountRegistrationRefused, account_register

Order = get_model("order", "Order")


class SignedLinkRequired:
    """Guest order pages open only from the signed link in the confirmation email: a wrong
    or forged signature, or an order with an account, is a 404 (Oscar then still asks for
    the order's email address as a second check)."""

    def dispatch(self, request, *args, **kwargs):
        order = Order.objects.filter(user=None, number=kwargs.get("order_number")).first()
        if order is None or not order.check_verification_hash(kwargs.get("hash") or ""):
            raise Http404("No such order")
        return super().dispatch(request, *args, **kwargs)


class SignedAnonymousOrderDetailView(SignedLinkRequired, AnonymousOrderDetailView):
    pass


class SignedAnonymousOrderFormView(SignedLinkRequired, AnonymousOrderFormView):
    pass


class OwnWishListView(WishListView):
    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except PermissionDenied:
            raise Http404("No such wish list") from None


password_reset = rate_limit_post(
    scope="password-reset",
    limit=5,
    window=3600,
    anonymous_keys=lambda request: [
        "email:" + request.POST.get("email", "").strip().lower()[:254],
    ],
)(
    login_forbidden(
        auth_views.PasswordResetView.as_view(
            form_class=get_class("customer.forms", "PasswordResetForm"),
            success_url=reverse_lazy("password-reset-done"),
            template_name="oscar/registration/password_reset_form.html",
        )
    )
)


class ProfileWithPasswordForm(ProfileForm):
    """Oscar's profile form, asking for the current password before the email address (the
    login, and where password resets go) can change."""

    current_password = forms.CharField(
        label="Current password",
        help_text="Needed only to change your email address.",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        required=False,
        strip=False,
    )

    def clean(self):
        data = super().clean()
        if "email" in self.changed_data and not self.user.check_password(
            data.get("current_password") or ""
        ):
            self.add_error(
                "current_password", "Enter your current password to change your email address."
            )
        return data


class ProfileUpdateWithPasswordView(ProfileUpdateView):
    form_class = ProfileWithPasswordForm


profile_update = login_required(ProfileUpdateWithPasswordView.as_view())


class RegisterThroughServiceMixin:
    """Oscar's `register_user` authenticates without the request, which django-axes (first
    in AUTHENTICATION_BACKENDS) refuses; ours goes through `account_register`."""

    def register_user(self, form):
        return account_register(request=self.request, form=form, sender=self)

    def register_or_form_error(self, form) -> bool:
        """Register; on a refusal, put the reason on the form and answer False."""
        try:
            self.register_user(form)
        except AccountRegistrationRefused as refused:
            form.add_error(refused.field, refused.message)
            return False
        return True


class RegistrationView(RegisterThroughServiceMixin, AccountRegistrationView):
    def form_valid(self, form) -> HttpResponse:
        if not self.register_or_form_error(form):
            return self.form_invalid(form)
        return redirect(form.cleaned_data["redirect_url"])


class LoginRegistrationView(RegisterThroughServiceMixin, AccountAuthView):
    def validate_registration_form(self) -> HttpResponse:
        form = self.get_registration_form(bind_data=True)
        if form.is_valid() and self.register_or_form_error(form):
            messages.success(self.request, self.get_registration_success_message(form))
            return redirect(self.get_registration_success_url(form))
        return self.render_to_response(self.get_context_data(registration_form=form))


login_register = LoginRegistrationView.as_view()
register = RegistrationView.as_view()
