"""Deterministic, realistic leads for the sandbox: `sandbox_seed(count, seed)`.

Values are drawn per field *type* from the schema; text and number fields with a
known meaning (names, emails, cities, budgets, years...) get realistic values, the
rest a plausible generic one. The first leads walk through every enum option, so
every option occurs once there are at least as many leads as options. The sales
reps the leads' `salesRep` ids name (1 to SALES_REPS) are stored too, so that a
read with `depth` ≥ 1 populates them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from django.db.models import Max

from leadsadmin.schema import FIELDS, FieldType

from .models import Lead, SalesRep
from .operations import leads_store

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)

FIRST_NAMES = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Maria",
    "Luis",
    "Ana",
    "Jamal",
    "Aisha",
    "Hiro",
    "Mei",
    "Nate",
    "Gina",
    "Frank",
    "Ben",
    "Priya",
    "Raj",
    "Olga",
    "Ivan",
    "Chloe",
    "Ethan",
    "Zoe",
    "Noah",
    "Emma",
    "Liam",
]
LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Kim",
    "Nguyen",
    "Patel",
    "O'Neil",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
]
EMAIL_DOMAINS = (
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "icloud.com",
    "aol.com",
    "dealer-test.com",
)
# (city, state, zip)
CITIES = (
    ("Albany", "NY", "12207"),
    ("Buffalo", "NY", "14202"),
    ("Fresno", "CA", "93650"),
    ("San Diego", "CA", "92101"),
    ("Sacramento", "CA", "95814"),
    ("Dayton", "OH", "45402"),
    ("Columbus", "OH", "43215"),
    ("Austin", "TX", "78701"),
    ("Houston", "TX", "77002"),
    ("Dallas", "TX", "75201"),
    ("Miami", "FL", "33130"),
    ("Orlando", "FL", "32801"),
    ("Tampa", "FL", "33602"),
    ("Atlanta", "GA", "30303"),
    ("Phoenix", "AZ", "85004"),
    ("Denver", "CO", "80202"),
    ("Seattle", "WA", "98101"),
    ("Portland", "OR", "97204"),
    ("Chicago", "IL", "60601"),
    ("Detroit", "MI", "48226"),
    ("Nashville", "TN", "37203"),
    ("Charlotte", "NC", "28202"),
    ("Boston", "MA", "02108"),
    ("Newark", "NJ", "07102"),
    ("Las Vegas", "NV", "89101"),
)
VEHICLES = (
    ("Toyota", "Camry"),
    ("Toyota", "RAV4"),
    ("Toyota", "Tacoma"),
    ("Honda", "Civic"),
    ("Honda", "CR-V"),
    ("Ford", "F-150"),
    ("Ford", "Explorer"),
    ("Chevrolet", "Equinox"),
    ("Chevrolet", "Silverado"),
    ("Nissan", "Altima"),
    ("Jeep", "Wrangler"),
    ("Hyundai", "Tucson"),
    ("Kia", "Sorento"),
    ("Tesla", "Model 3"),
    ("Subaru", "Outback"),
    ("Dodge", "Grand Caravan"),
)
TRIMS = ("LE", "XLE", "Sport", "Limited", "Base", "EX", "LX", "Platinum")
NOTES = (
    "Follow up next week",
    "Trade-in pending",
    "Prefers text messages",
    "Prefers email",
    "Asked about financing options",
    "Wants a test drive on Saturday",
    "Spouse needs to see the car",
    "Comparing with another dealer",
)
STATUS_TRACKER = ("new", "contacted", "appointment", "negotiating", "sold")
CONTACT_TYPES = ("phone", "email", "walk-in", "web form", "chat")
REPS = ("Alice", "Bob", "Carmen", "Dmitri", "Erin")
CREDIT = ("excellent", "good", "fair", "poor")
AGE_RANGES = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
STREETS = ("Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Park Blvd", "Elm St")

SALES_REPS = 20

# How often a nullable field is left empty.
NULL_RATE = 0.18


def _person(rng: random.Random, lead_id: int) -> dict:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city, state, zipcode = rng.choice(CITIES)
    make, model = rng.choice(VEHICLES)
    handle = f"{first}.{last}".lower().replace("'", "")
    return {
        "first": first,
        "last": last,
        "email": f"{handle}{lead_id}@{rng.choice(EMAIL_DOMAINS)}",
        "city": city,
        "state": state,
        "zipcode": zipcode,
        "make": make,
        "model": model,
    }


def _budget(rng: random.Random, p: dict) -> int:
    p.setdefault("budget", rng.randrange(8, 60) * 1000)
    return p["budget"]


def _mileage(rng: random.Random, p: dict) -> int:
    p.setdefault("mileage", rng.choice((0, 10000, 30000, 50000, 70000)))
    return p["mileage"]


# Realistic values for the text and number fields whose meaning is known; any other
# field of those types gets a generic value.
TEXT_VALUES = {
    "firstName": lambda rng, p, i: p["first"],
    "lastName": lambda rng, p, i: p["last"],
    "email": lambda rng, p, i: p["email"],
    "loginEmail": lambda rng, p, i: p["email"],
    "phone": lambda rng, p, i: f"+1555{rng.randrange(10**6, 10**7)}",
    "call": lambda rng, p, i: rng.choice(("yes", "no")),
    "zipcode": lambda rng, p, i: p["zipcode"],
    "cfZipcode": lambda rng, p, i: p["zipcode"],
    "estimatedZipcode": lambda rng, p, i: p["zipcode"],
    "city": lambda rng, p, i: p["city"],
    "cfCity": lambda rng, p, i: p["city"],
    "state": lambda rng, p, i: p["state"],
    "cfState": lambda rng, p, i: p["state"],
    "notes": lambda rng, p, i: rng.choice(NOTES),
    "statusTracker": lambda rng, p, i: rng.choice(STATUS_TRACKER),
    "attachments": lambda rng, p, i: f"https://files.example.com/leads/{i}/license.pdf",
    "purchaseOption": lambda rng, p, i: rng.choice(("cash", "finance", "lease")),
    "budgetLower": lambda rng, p, i: str(_budget(rng, p)),
    "budgetUpper": lambda rng, p, i: str(_budget(rng, p) + rng.randrange(2, 20) * 1000),
    "newOrUsed": lambda rng, p, i: rng.choice(("new", "used")),
    "make": lambda rng, p, i: p["make"],
    "model": lambda rng, p, i: p["model"],
    "makeAndModel": lambda rng, p, i: f"{p['make']} {p['model']}",
    "trim": lambda rng, p, i: rng.choice(TRIMS),
    "customer": lambda rng, p, i: f"cust-{1000 + i}",
    "completedDate": lambda rng, p, i: (
        (EPOCH + timedelta(days=rng.randrange(365))).date().isoformat()
    ),
    "localTime": lambda rng, p, i: f"{rng.randrange(8, 21):02d}:{rng.choice((0, 15, 30, 45)):02d}",
    "creditScore": lambda rng, p, i: rng.choice(CREDIT),
    "contactScore": lambda rng, p, i: str(rng.randrange(1, 100)),
    "contactBelongsTo": lambda rng, p, i: rng.choice(REPS),
    "contactType": lambda rng, p, i: rng.choice(CONTACT_TYPES),
    "estimatedAgeRange": lambda rng, p, i: rng.choice(AGE_RANGES),
    "estimatedAddress": lambda rng, p, i: f"{rng.randrange(100, 9999)} {rng.choice(STREETS)}",
    "conversation": lambda rng, p, i: f"Customer asked about the {p['make']} {p['model']}.",
    "preApprovalId": lambda rng, p, i: f"pa-{rng.randrange(10000, 99999)}",
    "anonymousId": lambda rng, p, i: f"anon-{i:06x}",
}
NUMBER_VALUES = {
    "monthlyPayment": lambda rng, p: rng.randrange(150, 1200),
    "mileageLower": lambda rng, p: _mileage(rng, p),
    "mileageUpper": lambda rng, p: _mileage(rng, p) + rng.choice((10000, 20000, 40000)),
    "cashDown": lambda rng, p: rng.randrange(0, 40) * 500,
    "yearLower": lambda rng, p: rng.randrange(2008, 2020),
    "yearUpper": lambda rng, p: rng.randrange(2018, 2026),
    "year": lambda rng, p: rng.randrange(2008, 2026),
    "salesRep": lambda rng, p: rng.randrange(1, SALES_REPS + 1),
    "customers": lambda rng, p: rng.randrange(1, 500),
    "latestEvent": lambda rng, p: rng.randrange(1, 3000),
}


def _text(name: str, rng: random.Random, p: dict, lead_id: int) -> str:
    make = TEXT_VALUES.get(name)
    return make(rng, p, lead_id) if make else f"{name}-{rng.randrange(1000)}"


def _number(name: str, rng: random.Random, p: dict) -> float:
    make = NUMBER_VALUES.get(name)
    return float(make(rng, p) if make else rng.randrange(0, 1000))


def _lead(rng: random.Random, lead_id: int, index: int) -> Lead:
    person = _person(rng, lead_id)
    created = EPOCH + timedelta(minutes=lead_id)
    values = {"id": lead_id, "createdAt": created, "updatedAt": created}
    for f in FIELDS:
        if f.name in values:
            continue
        # The first leads have every field set, so every field occurs.
        empty = index >= 3 and rng.random() < NULL_RATE
        match f.type:
            case FieldType.TEXT:
                values[f.name] = None if empty else _text(f.name, rng, person, lead_id)
            case FieldType.NUMBER | FieldType.RELATION:
                values[f.name] = None if empty else _number(f.name, rng, person)
            case FieldType.BOOLEAN:
                values[f.name] = None if empty else rng.random() < 0.5
            case FieldType.ENUM:
                walk = f.options[index] if index < len(f.options) else None
                values[f.name] = walk or (None if empty else rng.choice(f.options))
            case FieldType.ENUM_LIST:
                chosen = [] if empty else rng.sample(f.options, rng.choice((1, 1, 2, 3)))
                if index < len(f.options) and f.options[index] not in chosen:
                    chosen.insert(0, f.options[index])
                values[f.name] = chosen
            case FieldType.RELATION_LIST:
                roll = rng.random()
                if roll < 0.45 and index >= 3:
                    values[f.name] = None
                elif roll < 0.6 and index >= 3:
                    values[f.name] = []
                else:
                    values[f.name] = [rng.randrange(1, 1000) for _ in range(rng.randrange(1, 4))]
    return Lead(**values)


def sandbox_seed(count: int, seed: int = 0) -> int:
    """Adds `count` deterministic leads after the highest existing id (ids 1..count
    on an empty table); returns how many were created."""
    start = (Lead.objects.aggregate(top=Max("id"))["top"] or 0) + 1
    rng = random.Random(seed)
    _sales_reps_store(seed)

    def leads() -> Iterator[Lead]:
        for index in range(count):
            yield _lead(rng, start + index, index)

    return leads_store(leads())


def _sales_reps_store(seed: int) -> None:
    """Sales reps 1 to SALES_REPS, those not stored yet; drawn from a generator of
    their own, so the leads are the same as without them."""
    rng = random.Random(f"sales-reps-{seed}")
    stored = set(SalesRep.objects.values_list("id", flat=True))
    reps = []
    for rep_id in range(1, SALES_REPS + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        handle = f"{first}.{last}".lower().replace("'", "")
        created = EPOCH - timedelta(days=rep_id)
        if rep_id not in stored:
            reps.append(
                SalesRep(
                    id=rep_id,
                    name=f"{first} {last}",
                    email=f"{handle}@dealer.example",
                    createdAt=created,
                    updatedAt=created,
                )
            )
    SalesRep.objects.bulk_create(reps)
