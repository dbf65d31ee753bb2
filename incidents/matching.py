"""Party names compared tolerantly, for backtracking and the ``incident_party`` flag.

``normalise`` folds what differs between spellings of one company: accents, case,
punctuation, legal forms (cleanco's maintained list: Ltd, Limited, GmbH, S.A. de C.V., ...)
and word order ("Accra Pharma Ltd" = "ACCRA PHARMA LIMITED" = "Accra-Pharma Ltd." =
"accra pharma"). ``score`` compares two normalised names with rapidfuzz (0..1); a pair is
the same company from ``THRESHOLD`` up. Spelling slips still match ("Acra Pharma"), other
companies that share a word do not ("Accra Pharmaceuticals Holdings").

On PostgreSQL candidates come from pg_trgm (``%``: similarity 0.5 and up, through the GIN
trigram indexes of migration 0002) and rapidfuzz scores them; elsewhere (SQLite, the
demo) rapidfuzz scans the names in Python: the same results, slower."""

import re
import unicodedata

from cleanco import basename
from django.db import connection
from rapidfuzz import fuzz

THRESHOLD = 0.88

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalise(name: str) -> str:
    """The comparable form of a company name: words without accents, case, punctuation
    or legal form, in alphabetical order."""
    text = _fold(name or "").strip()
    # Legal forms are stripped before punctuation goes ("S.A." is a form, "SA" a word too).
    # Stacked forms ("Co. Ltd", "Company Limited") lose one per pass: strip until stable.
    stripped = text
    for _pass in range(3):
        shorter = basename(stripped)
        if shorter == stripped:
            break
        stripped = shorter
    # A name that is only a legal form ("Limited") keeps its words rather than vanishing.
    text = stripped or text
    words = _NOT_WORD.sub(" ", text.casefold()).split()
    return " ".join(sorted(words))


def score(a: str, b: str) -> float:
    """How alike two normalised names are, 0..1 (rapidfuzz's normalised Indel ratio)."""
    if not a or not b:
        return 0.0
    return round(fuzz.ratio(a, b) / 100.0, 3)


def same_company(a: str, b: str) -> bool:
    return score(normalise(a), normalise(b)) >= THRESHOLD


def on_postgresql() -> bool:
    return connection.vendor == "postgresql"
