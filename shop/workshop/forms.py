from django import forms

from shop.workshop.models import WorkshopJob


class JobAdvanceForm(forms.Form):
    status = forms.ChoiceField(choices=WorkshopJob.Status.choices)
    note = forms.CharField(required=False, max_length=500)
