"""The Lead schema: the one list of Lead fields.

Every other part of Leads Admin (the sandbox's models and validation, the filter
builder, bulk-edit forms, preview columns, the client's where checks) reads this
module; nothing else names a field together with its type or options.

The source of truth is the API's own page for ``PATCH /api/leads``
(a copy is kept as ``docs/api/leads-api-patch.txt``); ``tests/test_schema.py`` parses it
and fails when this module and the page disagree. Operators per type follow
Payload's own filter builder (``payload-contract.md`` 1.3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    ENUM = "enum"  # a single select
    ENUM_LIST = "enum_list"  # a select with hasMany: a list of options
    RELATION = "relation"  # the id of one related document
    RELATION_LIST = "relation_list"  # a list of related ids


class Group(StrEnum):
    STATUS = "status"
    CONTACT = "contact"
    VEHICLE = "vehicle wishes"
    BUDGET = "budget"
    FEATURES = "features"
    CONSENT = "consent & notifications"
    ENRICHMENT = "enrichment"
    RELATIONS = "relations"
    SYSTEM = "system"


GROUP_LABELS = {
    Group.STATUS: "Status",
    Group.CONTACT: "Contact",
    Group.VEHICLE: "Vehicle wishes",
    Group.BUDGET: "Budget",
    Group.FEATURES: "Features",
    Group.CONSENT: "Consent & notifications",
    Group.ENRICHMENT: "Enrichment",
    Group.RELATIONS: "Relations",
    Group.SYSTEM: "System",
}

# Every operator Payload's where parser accepts (validOperators in Payload 3.x).
# The server accepts all of them on any field; which ones make sense per type is
# OPERATORS_BY_TYPE below.
PAYLOAD_OPERATORS = (
    "equals",
    "contains",
    "not_equals",
    "in",
    "all",
    "not_in",
    "exists",
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
    "like",
    "not_like",
    "within",
    "intersects",
    "near",
)

_COMPARISONS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal")

# Payload's admin WhereBuilder table (payload-contract.md 1.3), first entry = the
# default operator. Enum lists add `all` ("has all of"), which Payload parses and
# the MongoDB adapter implements; the filter layer may express it portably.
OPERATORS_BY_TYPE: dict[FieldType, tuple[str, ...]] = {
    FieldType.TEXT: (
        "equals",
        "not_equals",
        "in",
        "not_in",
        "exists",
        "like",
        "not_like",
        "contains",
    ),
    FieldType.NUMBER: ("equals", "not_equals", "in", "not_in", "exists", *_COMPARISONS),
    FieldType.DATETIME: ("equals", "not_equals", "in", "not_in", "exists", *_COMPARISONS),
    FieldType.ENUM: ("equals", "not_equals", "in", "not_in", "exists"),
    FieldType.ENUM_LIST: ("equals", "not_equals", "in", "not_in", "all", "exists"),
    FieldType.BOOLEAN: ("equals", "not_equals", "exists"),
    FieldType.RELATION: ("equals", "not_equals", "in", "not_in", "exists"),
    FieldType.RELATION_LIST: ("equals", "not_equals", "in", "not_in", "exists"),
}

# What the filter builder offers per type, in the order it lists them (first = the
# default): only what gives the true answer on Payload's SQL adapter, checked per
# type by tests/contract/test_filter_operators_contract.py. Payload's names, plus the
# filter's own (leads/filters.py turns them into a where):
#   empty / not_empty   sent as exists false / true
#   not_contains        no `like` negation exists (`not_like` compares the whole
#                       text): the ids of the leads that contain it, as `id not_in`
#   all (enum lists)    the SQL adapter fails on `all` and answers an AND of
#                       `equals` on one list with 0: resolved to ids, as `id in`
# Relation lists offer nothing: the contract server stores them as JSON arrays of
# ids, where `equals` and `in` find nothing and `exists` tells null from a list, so
# an empty list counts as set; the hosted API's real relationships cannot be
# checked against it. Until they can, no answer on them is known to be right.
_EMPTY = ("empty", "not_empty")
_ORDERED = ("equals", "not_equals", "greater_than", "greater_than_equal")
FILTER_OPERATORS_BY_TYPE: dict[FieldType, tuple[str, ...]] = {
    FieldType.TEXT: (
        "equals",
        "not_equals",
        "contains",
        "not_contains",
        "like",
        "in",
        "not_in",
        *_EMPTY,
    ),
    FieldType.NUMBER: (*_ORDERED, "less_than", "less_than_equal", "in", "not_in", *_EMPTY),
    FieldType.DATETIME: (*_ORDERED, "less_than", "less_than_equal", "in", "not_in", *_EMPTY),
    FieldType.ENUM: ("equals", "not_equals", "in", "not_in", *_EMPTY),
    FieldType.ENUM_LIST: ("equals", "in", "all", "not_equals", "not_in", *_EMPTY),
    FieldType.BOOLEAN: ("equals", "not_equals", *_EMPTY),
    FieldType.RELATION: ("equals", "not_equals", "in", "not_in", *_EMPTY),
    FieldType.RELATION_LIST: (),
}

# Operators whose value is a list of values.
LIST_OPERATORS = frozenset({"in", "not_in", "all"})
# Types whose stored value is a list.
LIST_TYPES = frozenset({FieldType.ENUM_LIST, FieldType.RELATION_LIST})


@dataclass(frozen=True)
class LeadField:
    name: str
    type: FieldType
    label: str
    group: Group
    nullable: bool = True
    options: tuple[str, ...] = ()
    bulk_editable: bool = True
    operators: tuple[str, ...] = field(default=())

    def __post_init__(self):
        if not self.operators:
            object.__setattr__(self, "operators", OPERATORS_BY_TYPE[self.type])

    @property
    def filter_operators(self) -> tuple[str, ...]:
        """What the filter builder offers for this field (FILTER_OPERATORS_BY_TYPE)."""
        return FILTER_OPERATORS_BY_TYPE[self.type]

    @property
    def is_list(self) -> bool:
        return self.type in LIST_TYPES

    @property
    def payload_label(self) -> str:
        """The label Payload derives from the field name ("processStatuses" →
        "Process Statuses"); it appears in Payload's validation messages."""
        words, current = [], ""
        for char in self.name:
            if char.isupper() and current:
                words.append(current)
                current = char
            else:
                current += char
        words.append(current)
        return " ".join(word[:1].upper() + word[1:] for word in words)


T, N, B, D = FieldType.TEXT, FieldType.NUMBER, FieldType.BOOLEAN, FieldType.DATETIME
E, EL, R, RL = FieldType.ENUM, FieldType.ENUM_LIST, FieldType.RELATION, FieldType.RELATION_LIST
G = Group

OPTIONS: dict[str, tuple[str, ...]] = {
    "processStatuses": (
        "Qualified Lead",
        "Actively Communicating",
        "First Communication Attempt (phone and text)",
        "Second Communication Attempt",
        "On Hold",
        "Lost",
    ),
    "reason": (
        "Do Not Contact",
        "Duplicate",
        "Looking For Business Financing",
        "Looking For Listings",
        "Looking For Personal Financing",
        "Not Responding",
        "Test",
        "Bad Credit",
    ),
    # Case variants are distinct options in the API: keep every one.
    "timeToPurchase": (
        "ASAP",
        "This week",
        "Within 1-2 weeks",
        "Within 2-4 weeks",
        "Asap",
        "This Week",
        "Within 1-2 Weeks",
        "Within 2-4 Weeks",
        "within 1-2 weeks",
        "within 2-4 weeks",
        "within 1-2 months",
        "other",
        "this week",
        "asap",
        "2+ months",
        "just browsing",
        "1-2 months",
        "1-2 weeks",
        "2-4 weeks",
    ),
    "bodyStyle": ("truck", "car", "van", "suv", "wagon"),
    "carStyle": ("sedan", "coupe", "convertible", "hatchback"),
    "truckStyle": ("crew", "reg", "extended"),
    "suvStyle": ("small/compact", "mid-size", "large/full-size"),
    "vanStyle": ("cargo", "passenger", "conversion"),
    "exterior": (
        "Silver",
        "White",
        "Black",
        "Brown",
        "Blue",
        "Orange",
        "Red",
        "Green",
        "Any color",
        "Beige",
        "Gold",
        "Gray",
        "Light Blue",
    ),
    "interior": (
        "Black",
        "Gray",
        "Tan",
        "Beige",
        "Blue",
        "Brown",
        "Red",
        "White",
        "Any color",
        "Ivory",
        "Cream",
    ),
    "fuelType": (
        "Gasoline",
        "Electric",
        "Hybrid",
        "gasoline",
        "flex fuel",
        "diesel",
        "other",
        "hybrid",
        "electric",
    ),
    "drivetrain": (
        "Four Wheel Drive",
        "Rear Wheel Drive",
        "Front Wheel Drive",
        "all wheel drive",
        "front wheel drive",
        "rear wheel drive",
    ),
    "transmission": ("Automatic", "Manual", "automatic", "cvt", "manual"),
    "comfort": (
        "Leather/premium Seats",
        "Heated Steering Wheel",
        "leather/premium seats",
        "heated steering wheel",
        "ventilated or cooled seats",
        "heated seats",
        "dual-zone/climate control",
        "power-adjustable seats",
        "noise-cancelling technology",
        "massage seats",
    ),
    "safety": (
        "Adaptive Cruise Control",
        "Blind Spot Monitor",
        "lane departure warning",
        "back up camera",
        "360 camera",
        "park assist",
        "heads-up display",
        "adaptive cruise control",
        "blind spot monitor",
    ),
    "entertainment": (
        "Premium Audio System",
        "Entertainment Package/dvd",
        "premium audio system",
        "apple carplay/android auto",
        "bluetooth",
        "auxiliary input",
        "usb ports",
        "wireless device charging",
        "wi-fi hotspot",
        "navigation system",
        "entertainment package/dvd",
        "satellite radio",
    ),
    "utility": (
        "Towing Package",
        "Sunroof/moonroof/panoramic Roof",
        "towing package",
        "sunroof/moonroof/panoramic roof",
        "adaptive suspension",
        "4 wheel drive",
        "3rd row seats",
        "handicap accessible",
    ),
}


def _f(name, type_, label, group, **kwargs):
    if type_ in (E, EL):
        kwargs["options"] = OPTIONS[name]
    return LeadField(name=name, type=type_, label=label, group=group, **kwargs)


# In the order of the API page, `id` first.
FIELDS: tuple[LeadField, ...] = (
    _f("id", N, "ID", G.SYSTEM, nullable=False, bulk_editable=False),
    _f("updatedAt", D, "Updated at", G.SYSTEM, nullable=False, bulk_editable=False),
    _f("createdAt", D, "Created at", G.SYSTEM, nullable=False, bulk_editable=False),
    _f("processStatuses", E, "Process status", G.STATUS),
    _f("reason", E, "Reason", G.STATUS),
    _f("latestEvent", R, "Latest event", G.RELATIONS),
    _f("notes", T, "Notes", G.STATUS),
    _f("statusTracker", T, "Status tracker", G.STATUS),
    _f("searches", RL, "Searches", G.RELATIONS),
    _f("attachments", T, "Attachments", G.STATUS),
    _f("firstName", T, "First name", G.CONTACT),
    _f("lastName", T, "Last name", G.CONTACT),
    _f("phone", T, "Phone", G.CONTACT),
    _f("call", T, "Call", G.CONTACT),
    _f("zipcode", T, "ZIP code", G.CONTACT),
    _f("email", T, "Email", G.CONTACT),
    _f("loginEmail", T, "Login email", G.CONTACT),
    _f("purchaseOption", T, "Purchase option", G.BUDGET),
    _f("timeToPurchase", EL, "Time to purchase", G.VEHICLE),
    _f("monthlyPayment", N, "Monthly payment", G.BUDGET),
    _f("budgetLower", T, "Budget from", G.BUDGET),
    _f("budgetUpper", T, "Budget to", G.BUDGET),
    _f("mileageLower", N, "Mileage from", G.VEHICLE),
    _f("mileageUpper", N, "Mileage to", G.VEHICLE),
    _f("cashDown", N, "Cash down", G.BUDGET),
    _f("newOrUsed", T, "New or used", G.VEHICLE),
    _f("bodyStyle", EL, "Body style", G.VEHICLE),
    _f("carStyle", EL, "Car style", G.VEHICLE),
    _f("truckStyle", EL, "Truck style", G.VEHICLE),
    _f("suvStyle", EL, "SUV style", G.VEHICLE),
    _f("vanStyle", EL, "Van style", G.VEHICLE),
    _f("yearLower", N, "Year from", G.VEHICLE),
    _f("yearUpper", N, "Year to", G.VEHICLE),
    _f("year", N, "Year", G.VEHICLE),
    _f("make", T, "Make", G.VEHICLE),
    _f("model", T, "Model", G.VEHICLE),
    _f("exterior", EL, "Exterior color", G.VEHICLE),
    _f("interior", EL, "Interior color", G.VEHICLE),
    _f("fuelType", EL, "Fuel type", G.VEHICLE),
    _f("drivetrain", EL, "Drivetrain", G.VEHICLE),
    _f("transmission", EL, "Transmission", G.VEHICLE),
    _f("comfort", EL, "Comfort features", G.FEATURES),
    _f("safety", EL, "Safety features", G.FEATURES),
    _f("entertainment", EL, "Entertainment features", G.FEATURES),
    _f("utility", EL, "Utility features", G.FEATURES),
    _f("subscribe", B, "Subscribed", G.CONSENT),
    _f("agree", B, "Agreed to terms", G.CONSENT),
    _f("customer", T, "Customer", G.CONTACT),
    _f("messageNotifications", B, "Message notifications", G.CONSENT),
    _f("emailNotifications", B, "Email notifications", G.CONSENT),
    _f("emailAlerts", B, "Email alerts", G.CONSENT),
    _f("emailOffers", B, "Email offers", G.CONSENT),
    _f("leadEvents", RL, "Lead events", G.RELATIONS),
    _f("cfZipcode", T, "Detected ZIP code", G.ENRICHMENT),
    _f("cfState", T, "Detected state", G.ENRICHMENT),
    _f("cfCity", T, "Detected city", G.ENRICHMENT),
    _f("completedDate", T, "Completed date", G.STATUS),
    _f("localTime", T, "Local time", G.CONTACT),
    _f("trade", RL, "Trade-ins", G.RELATIONS),
    _f("messages", RL, "Messages", G.RELATIONS),
    _f("creditScore", T, "Credit score", G.BUDGET),
    _f("contactScore", T, "Contact score", G.ENRICHMENT),
    _f("contactBelongsTo", T, "Contact belongs to", G.ENRICHMENT),
    _f("contactType", T, "Contact type", G.ENRICHMENT),
    _f("contactValid", B, "Contact valid", G.ENRICHMENT),
    _f("testingCustomer", B, "Testing customer", G.SYSTEM),
    _f("estimatedAgeRange", T, "Estimated age range", G.ENRICHMENT),
    _f("estimatedAddress", T, "Estimated address", G.ENRICHMENT),
    _f("estimatedZipcode", T, "Estimated ZIP code", G.ENRICHMENT),
    _f("meetings", RL, "Meetings", G.RELATIONS),
    _f("makeAndModel", T, "Make and model", G.VEHICLE),
    _f("conversation", T, "Conversation", G.CONTACT),
    _f("city", T, "City", G.CONTACT),
    _f("state", T, "State", G.CONTACT),
    _f("preApprovalId", T, "Pre-approval ID", G.BUDGET),
    _f("vdpEmails", RL, "VDP emails", G.RELATIONS),
    _f("favorites", RL, "Favorites", G.RELATIONS),
    _f("calls", RL, "Calls", G.RELATIONS),
    _f("salesRep", R, "Sales rep", G.RELATIONS),
    _f("preApprovals", RL, "Pre-approvals", G.RELATIONS),
    _f("anonymousId", T, "Anonymous ID", G.SYSTEM),
    _f("manual", B, "Entered manually", G.SYSTEM),
    _f("trim", T, "Trim", G.VEHICLE),
    _f("oneOwner", B, "One owner", G.VEHICLE),
    _f("customers", R, "Customers", G.RELATIONS),
)

FIELDS_BY_NAME: dict[str, LeadField] = {f.name: f for f in FIELDS}
BULK_EDITABLE_FIELDS: tuple[LeadField, ...] = tuple(f for f in FIELDS if f.bulk_editable)


def lead_field(name: str) -> LeadField:
    """The field called `name`; KeyError for a name the schema does not know."""
    return FIELDS_BY_NAME[name]


def fields_by_group() -> list[tuple[Group, list[LeadField]]]:
    """Fields grouped in the order of Group, each group in schema order."""
    return [(group, [f for f in FIELDS if f.group == group]) for group in Group]
