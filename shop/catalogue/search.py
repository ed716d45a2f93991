"""Product search on PostgreSQL: what a shopper typed, turned into a full-text query.

The search document of a product (``Product.search_vector``) weighs its title A, its
categories B, its attributes (line, tanning, certification, origin...), its colours and its
UPC C, and its description D, in the ``shop_english`` configuration (English stemming over
unaccented words; migration 0033). ``SearchWord`` holds the unstemmed words of titles,
categories, attributes and colours plus the synonym list, for typo tolerance (trigram
similarity, ``pg_trgm``) and "did you mean".

A query is cut to ``MAX_TERMS`` words (letters and digits only: punctuation, ``tsquery``
operators, ``%``, ``_``, backslashes, control and direction marks, emoji are separators), each
word may be replaced by the nearest known word when it is not one (``walet`` -> ``wallet``),
and phrases of the trade are widened with their synonyms (``billfold`` -> ``wallet``). The
result is an AND of groups, each an OR of phrases; each phrase is handed to PostgreSQL's
``plainto_tsquery``, which reads no operators, so nothing typed is ever query syntax.

This module is pure (no queries): shop.catalogue.selectors asks the database.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

CONFIG = "shop_english"
MAX_QUERY_LENGTH = 200  # characters kept of what was typed
MAX_TERMS = 8  # words kept of those
MAX_WORD_LENGTH = 40  # a longer "word" is noise: cut
# Rank weights for D, C, B, A (description, attributes/colours, categories, title).
RANK_WEIGHTS = [0.1, 0.3, 0.5, 1.0]
# A word not in the vocabulary is read as the nearest one at least this similar (pg_trgm).
CORRECTION_SIMILARITY = 0.3
# "Did you mean": looser, and only offered when it finds something.
SUGGESTION_SIMILARITY = 0.2

# Words of the trade shoppers use for what we call otherwise. Keys and values are phrases of
# normalised words; a key found in the query is searched as itself OR any of its values.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "billfold": ("wallet",),
    "billfolds": ("wallet",),
    "pocketbook": ("wallet",),
    "card case": ("card holder",),
    "card wallet": ("card holder",),
    "cardholder": ("card holder",),
    "credit card": ("card holder",),
    "card sleeve": ("card holder",),
    "coin pouch": ("coin purse",),
    "change purse": ("coin purse",),
    "keyring": ("key fob",),
    "key ring": ("key fob",),
    "key chain": ("key fob",),
    "keychain": ("key fob",),
    "weekender": ("holdall",),
    "weekend bag": ("holdall",),
    "duffel": ("holdall",),
    "duffle": ("holdall",),
    "travel bag": ("holdall",),
    "messenger": ("crossbody",),
    "shoulder bag": ("crossbody",),
    "cross body": ("crossbody",),
    "shopper": ("tote",),
    "laptop case": ("laptop sleeve",),
    "computer sleeve": ("laptop sleeve",),
    "watch band": ("watch strap",),
    "watchband": ("watch strap",),
    "journal": ("notebook",),
    "travel wallet": ("passport cover",),
    "passport holder": ("passport cover",),
    "brown": ("chestnut", "dark brown", "tan"),
    "green": ("forest",),
    "veg tan": ("vegetable tanned",),
    "vegtan": ("vegetable tanned",),
    "eco": ("evergreen",),
    "sustainable": ("evergreen",),
    "classic": ("heritage",),
}
_LONGEST_SYNONYM = max(len(key.split()) for key in SYNONYMS)

# Words: runs of letters and digits. Everything else separates (underscore included: \w has it).
_WORD = re.compile(r"[^\W_]+")


def normalise(text: str) -> str:
    """Lower case, accents off (NFKD, combining marks dropped), as the vocabulary is stored."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def query_terms(query: str) -> list[str]:
    """The words searched for: at most MAX_TERMS of the first MAX_QUERY_LENGTH characters,
    normalised, each at most MAX_WORD_LENGTH long."""
    words = _WORD.findall(normalise(query[:MAX_QUERY_LENGTH]))
    return [word[:MAX_WORD_LENGTH] for word in words[:MAX_TERMS]]


def clean_query(query: str) -> str:
    """What we show back as the query: cut to MAX_QUERY_LENGTH, without NUL, control or
    format characters (direction marks), whitespace collapsed."""
    kept = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch
        for ch in query[:MAX_QUERY_LENGTH]
    )
    return " ".join(kept.split())


@dataclass(frozen=True)
class SearchPlan:
    """What is searched: ``groups`` (AND) of alternative phrases (OR); ``corrected`` the
    query as read after typo correction (shown when it differs from ``terms``)."""

    terms: tuple[str, ...]
    corrected: tuple[str, ...]
    groups: tuple[tuple[str, ...], ...]

    @property
    def corrected_text(self) -> str:
        return " ".join(self.corrected)

    @property
    def was_corrected(self) -> bool:
        return self.corrected != self.terms


def plan(terms: list[str], corrections: dict[str, str]) -> SearchPlan:
    """Groups for ``terms`` given the nearest known word of each (``corrections``; a term
    missing there is kept as typed). A phrase of the trade (typed or corrected) is searched
    with its synonyms; any other word as typed or corrected."""
    corrected = [corrections.get(term, term) for term in terms]
    groups: list[tuple[str, ...]] = []
    i = 0
    while i < len(terms):
        for n in range(min(_LONGEST_SYNONYM, len(terms) - i), 0, -1):
            typed = " ".join(terms[i : i + n])
            fixed = " ".join(corrected[i : i + n])
            key = typed if typed in SYNONYMS else fixed if fixed in SYNONYMS else None
            if key is not None or n == 1:
                alternatives = [typed, fixed, *SYNONYMS.get(key, ())] if key else [typed, fixed]
                groups.append(tuple(dict.fromkeys(alternatives)))
                i += n
                break
    return SearchPlan(terms=tuple(terms), corrected=tuple(corrected), groups=tuple(groups))


def synonym_words() -> set[str]:
    """The words of the synonym list's keys, for the vocabulary (so "bilfold" finds
    "billfold", and from there a wallet)."""
    return {word for key in SYNONYMS for word in key.split()}
