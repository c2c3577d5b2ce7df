"""Embedded vocabularies for the sample-data generator (names, domains, tiers, interests).

Mixed origins on purpose: accents, apostrophes, hyphens and a comma (so CSV quoting is exercised).
Emails are built from an ASCII "slug" of each name.  Domains are reserved example domains.
"""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta
from itertools import combinations
from typing import Final

import pyarrow as pa

FIRST_NAMES: Final = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William", "Elizabeth",
    "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
    "Christopher", "Nancy", "Daniel", "Lisa", "Matthew", "Betty", "Anthony", "Margaret", "Mark", "Sandra",
    "Donald", "Ashley", "Steven", "Kimberly", "Paul", "Emily", "Andrew", "Donna", "Joshua", "Michelle",
    "Kenneth", "Dorothy", "Kevin", "Carol", "Brian", "Amanda", "George", "Melissa", "Edward", "Deborah",
    "Ronald", "Stephanie", "Timothy", "Rebecca", "Jason", "Sharon", "Jeffrey", "Laura", "Ryan", "Cynthia",
    "Jacob", "Kathleen", "Gary", "Amy", "Nicholas", "Shirley", "Eric", "Angela", "Jonathan", "Helen",
    "Stephen", "Anna", "Larry", "Brenda", "Justin", "Pamela", "Scott", "Nicole", "Brandon", "Emma",
    "Benjamin", "Samantha", "Samuel", "Katherine", "Gregory", "Christine", "Frank", "Debra", "Alexander",
    "Rachel", "Raymond", "Catherine", "Patrick", "Carolyn", "Jack", "Janet", "Dennis", "Ruth", "Jerry", "Maria",
    "José", "Sofía", "Zoë", "Chloé", "Björn", "Åsa", "Søren", "Łukasz", "Agnieszka", "Jürgen", "Müge",
    "François", "Hélène", "Noël", "Renée", "Ïsmaël", "Dário", "João", "Ángel", "Lucía", "Mateo", "Valentina",
    "Aoife", "Siobhán", "Seán", "Niamh", "Ngozi", "Chinedu", "Oluwaseun", "Amara", "Kwame", "Yaw",
    "Hiroshi", "Yuki", "Haruto", "Sakura", "Wei", "Jing", "Min-jun", "Seo-yeon", "Arjun", "Priya",
    "Ananya", "Rohan", "Fatima", "Omar", "Layla", "Yusuf", "Ayşe", "Mehmet", "Dmitri", "Olga",
    "Anne-Marie", "Jean-Luc", "Mary-Kate", "D'Andre", "Le'Veon",
)  # fmt: skip

LAST_NAMES: Final = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes",
    "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper",
    "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson",
    "O'Brien", "O'Connor", "McDonald", "MacLeod", "García-López", "Fernández", "Núñez", "Muñoz", "Peña",
    "Müller", "Schröder", "Köhler", "Weiß", "Dubois", "Lefèvre", "Beaumont", "Østergaard", "Åberg",
    "Kowalski", "Wiśniewski", "Dąbrowski", "Novák", "Dvořák", "Horváth", "Nagy", "Papadopoulos",
    "Yamamoto", "Tanaka", "Suzuki", "Watanabe", "Wang", "Li", "Zhang", "Chen", "Park", "Choi",
    "Patel", "Sharma", "Singh", "Gupta", "Okafor", "Adeyemi", "Mensah", "Abdullah", "Haddad", "Yılmaz",  # noqa: RUF001
    "Van der Berg", "De la Cruz", "St. John", "Smith, Jr.", "Jones, III",
)  # fmt: skip

DOMAINS: Final = (
    "example.com", "example.org", "example.net", "mail.example.com", "corp.example.com",
    "example.co.uk", "shop.example.org", "example.de", "example.fr", "example.io",
)  # fmt: skip

TIERS: Final = ("Bronze", "Silver", "Gold", "Platinum")
TIER_WEIGHTS: Final = (0.55, 0.28, 0.13, 0.04)

INTERESTS: Final = (
    "golf", "wine", "travel", "cooking", "running", "books", "music", "tech", "gardening", "yoga",
)  # fmt: skip


def slug(name: str) -> str:
    """ASCII, lowercase, letters and digits only: "Łukasz" -> "lukasz", "O'Brien" -> "obrien"."""
    replaced = name.replace("ł", "l").replace("Ł", "L").replace("ø", "o").replace("Ø", "O").replace("ß", "ss")
    ascii_text = unicodedata.normalize("NFKD", replaced).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in ascii_text.lower() if ch.isalnum())


# Vocabularies as arrays for pyarrow's take(); the *_VOCAB ones end with [missing, ""].
BIRTH_START_DAYS: Final = -10_957  # 1940-01-01 as days since 1970-01-01
BIRTH_SPAN_DAYS: Final = 24_106  # up to 2005-12-31
INTEREST_SETS: Final = tuple(";".join(c) for k in (1, 2, 3) for c in combinations(INTERESTS, k))
SEPARATORS: Final = (".", ".", "", "_")
PHONE_STYLES: Final = (("+1 ", "-", "-"), ("(", ") ", "-"), ("", ".", "."), ("+1-", "-", "-"))
_TAIL: Final = [None, ""]
FIRST_VOCAB: Final = pa.array([*FIRST_NAMES, *_TAIL], pa.string())
LAST_VOCAB: Final = pa.array([*LAST_NAMES, *_TAIL], pa.string())
FIRST_PARTS: Final = pa.array([slug(x) for x in FIRST_NAMES] + [slug(x)[0] for x in FIRST_NAMES], pa.string())
LAST_SLUGS: Final = pa.array([slug(x) for x in LAST_NAMES], pa.string())
BIRTH_VOCAB: Final = pa.array(
    [(date(1970, 1, 1) + timedelta(days=BIRTH_START_DAYS + d)).isoformat() for d in range(BIRTH_SPAN_DAYS)] + _TAIL,
    pa.string(),
)
TIER_VOCAB: Final = pa.array(  # 100 entries in proportion to TIER_WEIGHTS
    [t for t, w in zip(TIERS, TIER_WEIGHTS, strict=True) for _ in range(round(w * 100))] + _TAIL, pa.string()
)
INTEREST_VOCAB: Final = pa.array([*INTEREST_SETS, *_TAIL], pa.string())
DIGITS_3: Final = pa.array([f"{i:03d}" for i in range(1000)], pa.string())
DIGITS_4: Final = pa.array([f"{i:04d}" for i in range(10_000)], pa.string())
EMPTIES: Final = pa.array(_TAIL, pa.string())

__all__ = [
    "BIRTH_SPAN_DAYS",
    "BIRTH_VOCAB",
    "DIGITS_3",
    "DIGITS_4",
    "DOMAINS",
    "EMPTIES",
    "FIRST_NAMES",
    "FIRST_PARTS",
    "FIRST_VOCAB",
    "INTERESTS",
    "INTEREST_SETS",
    "INTEREST_VOCAB",
    "LAST_NAMES",
    "LAST_SLUGS",
    "LAST_VOCAB",
    "PHONE_STYLES",
    "SEPARATORS",
    "TIERS",
    "TIER_VOCAB",
    "TIER_WEIGHTS",
    "slug",
]
