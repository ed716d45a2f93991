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
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from oscar.apps.customer.forms import EmailUserCreationForm, ProfileForm
from oscar.apps.customer.utils import normalise_email
from oscar.apps.customer.views import (
    AccountAuthView,
    AccountRegistrationView,
    AnonymousOrderDetailView,
    AnonymousOrderFormView,
    LogoutView,
    ProfileUpdateView,
)
from oscar.apps.wishlists.views import WishListView
from oscar.core.loading import get_class, get_model
from oscar.views.decorators import login_forbidden

from shop.common.ratelimit import limit_hit, limit_keys, rate_limit_post
from shop.lifecycle.forms import consent_field
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


class RegistrationForm(EmailUserCreationForm):
    """Oscar's registration form without its "A user with that email address already
    exists" error: the form must not tell who has an account. `account_register` emails the
    owner of an existing address instead. Password errors stay. With the marketing consent
    checkbox (unticked), which `account_register` records for a new account only."""

    marketing_opt_in = consent_field()

    def clean_email(self) -> str:
        return normalise_email(self.cleaned_data["email"])


# The same answer for a new address and an existing one (the welcome email, or the "someone
# tried to register" email, is what the customer finds in their inbox).
REGISTRATION_MESSAGE = "Thanks for registering! We have sent you an email: please check your inbox."


def registration_limited(request, email: str) -> bool:
    """Registration POSTs: 10 an hour per address (or account), and 3 an hour per email."""
    per_address = limit_hit(scope="register-ip", keys=limit_keys(request), limit=10, window=3600)
    per_email = limit_hit(
        scope="register-email",
        keys=["email:" + (email or "").strip().lower()[:254]],
        limit=3,
        window=3600,
    )
    return per_address or per_email


class RegisterThroughServiceMixin:
    """Oscar's `register_user` authenticates without the request, which django-axes (first
    in AUTHENTICATION_BACKENDS) refuses; ours goes through `account_register`."""

    def register_user(self, form):
        return account_register(request=self.request, form=form, sender=self)

    def register_or_form_error(self, form) -> bool:
        """Register (or, for an address that has an account, email its owner); on a
        refusal, put the reason on the form and answer False."""
        try:
            self.register_user(form)
        except AccountRegistrationRefused as refused:
            form.add_error(refused.field, refused.message)
            return False
        messages.success(self.request, REGISTRATION_MESSAGE)
        return True


class RegistrationView(RegisterThroughServiceMixin, AccountRegistrationView):
    form_class = RegistrationForm

    def post(self, request, *args, **kwargs) -> HttpResponse:
        if registration_limited(request, request.POST.get("email", "")):
            return render(request, "shop/rate_limited.html", status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form) -> HttpResponse:
        if not self.register_or_form_error(form):
            return self.form_invalid(form)
        return redirect(form.cleaned_data["redirect_url"])


class LoginRegistrationView(RegisterThroughServiceMixin, AccountAuthView):
    registration_form_class = RegistrationForm

    def validate_registration_form(self) -> HttpResponse:
        if registration_limited(self.request, self.request.POST.get("registration-email", "")):
            return render(self.request, "shop/rate_limited.html", status=429)
        form = self.get_registration_form(bind_data=True)
        if form.is_valid() and self.register_or_form_error(form):
            return redirect(self.get_registration_success_url(form))
        return self.render_to_response(self.get_context_data(registration_form=form))


login_register = LoginRegistrationView.as_view()
register = RegistrationView.as_view()


class PostOnlyLogoutView(LogoutView):
    """Signing out is a POST with a CSRF token (Django's own rule since 5.0): a GET, such as
    an <img> on another site or a link prefetch, only shows a page with the button."""

    http_method_names = ["get", "post", "options"]

    def get(self, request, *args, **kwargs) -> HttpResponse:
        return render(request, "shop/logout_confirm.html")

    def post(self, request, *args, **kwargs) -> HttpResponse:
        return super().get(request, *args, **kwargs)


logout = PostOnlyLogoutView.as_view()
