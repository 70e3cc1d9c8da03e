"""parse_query_string behaves like qs-esm with Payload's options."""

import pytest

from leadsadmin.sandbox.querystring import parse_query_string


@pytest.mark.parametrize(
    ("qs", "parsed"),
    [
        ("", {}),
        ("?a=1", {"a": "1"}),
        (
            "where[or][0][and][0][reason][equals]=Test",
            {"where": {"or": [{"and": [{"reason": {"equals": "Test"}}]}]}},
        ),
        ("a=1&a=2", {"a": ["1", "2"]}),  # duplicates combine
        ("a[]=1", {"a": ["1"]}),
        ("a[]=", {"a": []}),  # allowEmptyArrays
        ("a=x,y", {"a": "x,y"}),  # no comma splitting
        ("a=b+c%2Bd", {"a": "b c+d"}),  # + is a space
        ("where[customer.email][equals]=x", {"where": {"customer.email": {"equals": "x"}}}),
        ("a[2]=x&a[0]=y", {"a": ["y", "x"]}),  # sparse lists are compacted, in index order
        ("a[1001]=x", {"a": {"1001": "x"}}),  # index above arrayLimit: an object
        ("a[b]=1&a[0]=2", {"a": {"0": "2", "b": "1"}}),  # integer keys first, like JavaScript
        ("a", {"a": ""}),  # no strictNullHandling
        ("a=%zz", {"a": "%zz"}),  # a malformed escape stays as it is
        ("a=%C3%A9", {"a": "é"}),
        ("toString=1&a[constructor]=2", {}),  # prototype names are dropped
        ("a[b]c[d]=1", {"a": {"b": {"d": "1"}}}),
        ("where[a][in][0]=x&where[a][in][1]=y", {"where": {"a": {"in": ["x", "y"]}}}),
        ("where[a][in]=x&where[a][in]=y", {"where": {"a": {"in": ["x", "y"]}}}),
        ("a=1&a[b]=2", {"a": ["1", {"b": "2"}]}),
        ("a[b]=2&a=1", {"a": {"b": "2", "1": True}}),
    ],
)
def test_parses_like_qs_esm(qs, parsed):
    assert parse_query_string(qs) == parsed


def test_depth_is_ten_segments_and_the_rest_stays_one_key():
    parsed = parse_query_string("a[b][c][d][e][f][g][h][i][j][k][l][m]=x")
    node = parsed["a"]
    for key in "bcdefghijk":
        node = node[key]
    assert node == {"[l][m]": "x"}


def test_only_the_first_thousand_parameters_count():
    qs = "&".join(f"p{i}=x" for i in range(1005))
    parsed = parse_query_string(qs)
    assert len(parsed) == 1000
    assert "p999" in parsed and "p1000" not in parsed


def test_a_thousand_repeated_values_stay_a_list_and_commas_are_not_split():
    qs = "&".join("a=x" for _ in range(1001))
    assert parse_query_string(qs)["a"] == ["x"] * 1000  # the 1001st is past parameterLimit
    qs_comma = "a=" + ",".join(str(i) for i in range(2000))
    assert parse_query_string(qs_comma)["a"].count(",") == 1999
