"""Email validity (shared/pipeline/emails.py) at its boundaries, and the exact reason for each rule broken.

tests/test_email_parity.py checks the product against the emulator and the corpus; these pin the limits
(64 before the @, 63 per label, 2-63 letters at the end, 254 in all) on both sides, and each reason's words.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from shared.pipeline.emails import code_point, is_invisible, normalise, reason_for, validity


def valid(*emails: str) -> list[bool]:
    return [bool(v) for v in validity(pa.chunked_array([pa.array(list(emails), pa.string())])).to_pylist()]


def test_normalise_trims_unicode_spaces_lowercases_and_makes_missing_empty() -> None:
    raw = pa.chunked_array([pa.array([" \u00a0Ann@Example.COM\u2003\t", None, "", "ÄB@x.io"], pa.string())])

    assert normalise(raw).to_pylist() == ["ann@example.com", "", "", "äb@x.io"]


@pytest.mark.parametrize(
    ("email", "ok"),
    [
        ("a@b.co", True),
        ("a" * 64 + "@example.com", True),
        ("a" * 65 + "@example.com", False),
        ("a@" + "b" * 63 + ".com", True),
        ("a@" + "b" * 64 + ".com", False),
        ("a@b." + "c" * 63, True),
        ("a@b." + "c" * 64, False),
        ("a@b.c", False),
        ("a@b.c1", False),
        ("a@" + ("b" * 62 + ".") * 3 + "b" * 59 + ".com", True),  # 254 characters
        ("a@" + ("b" * 62 + ".") * 3 + "b" * 60 + ".com", False),  # 255
        ("a.b+c@x-y.example.org", True),
        ("a..b@x.io", False),
        (".a@x.io", False),
        ("a.@x.io", False),
        ("a@-x.io", False),
        ("a@x-.io", False),
        ("a@x", False),
        ("@x.io", False),
        ("a@@x.io", False),
        ("", False),
    ],
)
def test_the_limits_hold_on_both_sides(email: str, ok: bool) -> None:
    assert valid(email) == [ok]
    assert (reason_for(email) == "email is not a valid address") is ok  # a valid email breaks no rule


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("", "email is empty"),
        ("a@" + "b" * 249 + ".com", "email is longer than 254 characters"),
        ("ab.example.com", "email has no @"),
        ("a@b@example.com", "email has more than one @"),
        ("@example.com", "email has nothing before the @"),
        ("a b@example.com", "email contains a space or an invisible character (U+0020)"),
        ("a\u00a0b@example.com", "email contains a space or an invisible character (U+00A0)"),
        ("ab@exa\u200bmple.com", "email contains a space or an invisible character (U+200B)"),
        ("a\x01b@example.com", "email contains a space or an invisible character (U+0001)"),
        ("a\u3164b@example.com", "email contains a space or an invisible character (U+3164)"),
        ("ab@example.com\U000e0100", "email contains a space or an invisible character (U+E0100)"),
        ('a"b@example.com', 'email contains " (U+0022); AC refuses " ( ) , : ; < > [ \\ ]'),
        ("a(b@example.com", 'email contains ( (U+0028); AC refuses " ( ) , : ; < > [ \\ ]'),
        ("ab@exam]ple.com", 'email contains ] (U+005D); AC refuses " ( ) , : ; < > [ \\ ]'),
        ("ä@example.com", "the part before the @ contains a character outside ASCII (U+00E4)"),
        ("a" * 65 + "@example.com", "the part before the @ is longer than 64 characters"),
        (".a@example.com", "the part before the @ starts or ends with '.' or has '..'"),
        ("a.@example.com", "the part before the @ starts or ends with '.' or has '..'"),
        ("a..b@example.com", "the part before the @ starts or ends with '.' or has '..'"),
        ("a@exämple.com", "email domain contains a character outside ASCII (U+00E4): write it in its xn-- form"),
        ("a@exa_mple.com", "email domain contains _ (U+005F); only letters, digits, '-' and '.' are allowed"),
        ("a@examplecom", "email domain has no '.'"),
        ("a@example..com", "email domain has an empty part, or a part that starts or ends with '-'"),
        ("a@.example.com", "email domain has an empty part, or a part that starts or ends with '-'"),
        ("a@-example.com", "email domain has an empty part, or a part that starts or ends with '-'"),
        ("a@example-.com", "email domain has an empty part, or a part that starts or ends with '-'"),
        ("a@" + "b" * 64 + ".com", "email domain has a part longer than 63 characters"),
        ("a@example.c", "email domain must end in a '.' and at least two letters"),
        ("a@example.c0m", "email domain must end in a '.' and at least two letters"),
        ("a@mail.example.c", "email domain must end in a '.' and at least two letters"),  # the last label counts
        ("a@mail.ex4mple.com", "email is not a valid address"),
        ("a@example.com", "email is not a valid address"),
    ],
)
def test_each_rule_broken_has_its_reason(email: str, reason: str) -> None:
    assert reason_for(email) == reason
    assert valid(email) == [reason == "email is not a valid address"]


def test_the_first_rule_broken_gives_the_reason() -> None:
    assert reason_for("a b@@x") == "email has more than one @"
    assert reason_for(" @x.io") == "email contains a space or an invisible character (U+0020)"
    assert reason_for("ä..@ex_ample") == "the part before the @ contains a character outside ASCII (U+00E4)"
    assert reason_for("a..b@ex_ample") == "the part before the @ starts or ends with '.' or has '..'"


@pytest.mark.parametrize(
    ("char", "invisible"),
    [
        (" ", True),
        ("\t", True),
        ("\u2028", True),  # line separator (Zl)
        ("\u00ad", True),  # soft hyphen (Cf)
        ("\ue000", True),  # private use (Co)
        ("\u034f", True),
        ("\u115f", True),  # the Hangul fillers and Khmer inherent vowels look blank but are letters and marks
        ("\u1160", True),
        ("\u17b4", True),
        ("\u17b5", True),
        ("\u2800", True),
        ("\u3164", True),
        ("\uffa0", True),
        ("\U000e0100", True),
        ("\u180a", False),
        ("\u180b", True),
        ("\u180f", True),
        ("\ufe00", True),
        ("\ufe0f", True),
        ("\U000e01ef", True),
        ("\u1810", False),  # a digit, just past the variation selectors
        ("\ufe10", False),
        ("a", False),
        ("é", False),
        ("-", False),
    ],
)
def test_invisible_characters(char: str, invisible: bool) -> None:
    assert is_invisible(char) is invisible


def test_code_points_are_written_with_at_least_four_hex_digits() -> None:
    assert [code_point(c) for c in ("\x01", "é", "\u200b", "\U000e0100")] == ["U+0001", "U+00E9", "U+200B", "U+E0100"]
