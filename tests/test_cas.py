"""CAS registry numbers (authorities.cas): every number of the catalogue validates, known
ones do, and corrupted ones (a changed check digit, swapped digits, no hyphens, letters,
nothing) do not."""

import csv
from pathlib import Path

import pytest
from stdnum.exceptions import ValidationError as NumberError

from authorities import cas

ROOT = Path(__file__).resolve().parent.parent
# The catalogue as shipped with the code, and the shared reference copy it comes from.
CATALOGUES = [ROOT / "authorities" / "data" / "substances.csv", ROOT.parent / "shared" / "data" / "substances.csv"]


def catalogue_numbers(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [(row["code"], row["cas_number"].strip()) for row in csv.DictReader(handle) if row["cas_number"].strip()]


@pytest.mark.parametrize("path", [p for p in CATALOGUES if p.exists()], ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_every_cas_number_of_the_catalogue_is_valid(path):
    numbers = catalogue_numbers(path)
    assert len(numbers) == 43  # 13 of the 56 substances have no confirmed number (blank)
    invalid = [(code, number) for code, number in numbers if not cas.is_valid(number)]
    assert invalid == []


@pytest.mark.parametrize(
    "number",
    [
        "7732-18-5",  # water
        "64-17-5",  # ethanol
        "94-59-7",  # safrole
        "299-42-3",  # ephedrine
        "108-24-7",  # acetic anhydride
        "7722-64-7",  # potassium permanganate
        "10034-85-2",  # hydriodic acid (five digits before the first hyphen)
        " 100-52-7 ",  # benzaldehyde, with the spaces of a pasted value
    ],
)
def test_known_numbers_are_valid(number):
    assert cas.is_valid(number)
    assert cas.normalised(number) == number.strip()


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("7732-18-4", "the check digit changed"),
        ("64-17-6", "the check digit changed"),
        ("94-59-8", "the check digit changed"),
        ("7723-18-5", "two digits swapped"),
        ("46-17-5", "two digits swapped"),
        ("95-49-7", "two digits swapped"),
        ("7732185", "no hyphens"),
        ("7732-185", "one hyphen missing"),
        ("7732-1-85", "a hyphen in the wrong place"),
        ("7732--18-5", "a hyphen too many"),
        ("77a2-18-5", "a letter"),
        ("CAS-18-5", "letters"),
        ("water", "a name, not a number"),
        ("", "nothing"),
        ("   ", "only spaces"),
        ("1-11-1", "too short before the first hyphen"),
        ("12345678-12-3", "too long before the first hyphen"),
    ],
)
def test_corrupted_numbers_are_not_valid(number, why):
    assert not cas.is_valid(number), why


def test_none_is_not_a_number():
    assert not cas.is_valid(None)


def test_normalised_refuses_a_wrong_check_digit():
    with pytest.raises(NumberError):
        cas.normalised("7732-18-4")
