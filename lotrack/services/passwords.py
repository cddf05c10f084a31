"""The password rules: length after NFKC normalisation, and no common or guessable password
(NIST SP 800-63B §5.1.1.2: no composition rules, a blocklist instead)."""

from __future__ import annotations

import re
import string
import unicodedata

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.text import N_, said

# ASVS 4.0.3 §2.1.2: passphrases of 64 characters must be allowed and longer than 128 refused
# (ASVS 5 keeps the 64 and drops the cap); 128 also bounds the work of one hash.
MAX_PASSWORD_LENGTH = 128

# NIST SP 800-63B (password verifiers): refuse what every guessing list tries first, whatever its
# ornament. A base word counts with digits and symbols around it, l33t spelling or repeated
# ("Password123!", "p@ssw0rd2024", "passwordpassword"); so do the username and the app's name.
_WORDS = (
    "password qwerty qwertz azerty letmein welcome iloveyou admin administrator root monkey dragon "
    "football baseball sunshine princess shadow master superman batman trustno changeme secret "
    "login abc test guest default lotrack correcthorsebatterystaple"
)
COMMON_WORDS = frozenset(_WORDS.split())
# Runs along the digits, the alphabet and keyboard rows and columns, forwards or backwards.
_KEYBOARDS = (
    ("qwertyuiop", "asdfghjkl", "zxcvbnm"),
    ("qwertzuiop", "asdfghjkl", "yxcvbnm"),
    ("azertyuiop", "qsdfghjklm", "wxcvbn"),
    ("1qaz", "2wsx", "3edc", "4rfv", "5tgb", "6yhn", "7ujm", "8ik", "9ol", "0p"),
    ("zaq1", "2wsx", "cde3", "4rfv", "bgt5", "6yhn", "mju7", "8ik", "9ol", "0p"),
)
_SEQUENCES = (
    string.digits * 2,
    string.ascii_lowercase * 2,
    *("".join(rows) for rows in _KEYBOARDS),
)
_LEET = str.maketrans("@4310$57!|", "aaeiossti" + "l")
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")


def normalise_password(password: str) -> str:
    """NFKC, as NIST SP 800-63B advises: the same passphrase typed on another keyboard matches."""
    return unicodedata.normalize("NFKC", password or "")


def is_guessable(password: str, username: str = "") -> bool:
    """Whether `password` is a common password, a keyboard or alphabet run, or the username."""
    folded = normalise_password(password).casefold()
    squeezed = re.sub(r"\s+", "", folded)
    for run in _SEQUENCES:
        if squeezed in run or squeezed in run[::-1]:
            return True
    core = re.sub(r"[\W_]+", "", _EDGES.sub("", squeezed).translate(_LEET))
    words = COMMON_WORDS | {re.sub(r"[\W_]+", "", username.casefold())} - {""}
    return any(core and core == word * (len(core) // len(word)) for word in words)


def check_password_rules(password: str, min_length: int, *, username: str = "") -> None:
    """ASVS 2.1: length only (`min_length` to MAX_PASSWORD_LENGTH characters after NFKC), any
    printable Unicode, no composition rules; common and context-specific passwords refused."""
    text = normalise_password(password)
    # ASVS 2.1.1 counts the length once runs of spaces are combined (12 spaces are not 12).
    if len(re.sub(r"\s+", " ", text)) < min_length:
        field = said("at least %(num)s characters", num=min_length)
    elif len(text) > MAX_PASSWORD_LENGTH:
        field = said("at most %(num)s characters", num=MAX_PASSWORD_LENGTH)
    elif any(unicodedata.category(ch) == "Cc" for ch in text):
        field = said("no control characters (tab, newline, NUL)")
    elif is_guessable(text, username):
        guessable = N_("too easy to guess; a few unrelated words make a good passphrase")
        raise ValidationFailed(
            N_(
                "The password is too easy to guess: a common password, a keyboard run or the"
                " username."
            ),
            {"password": guessable},
        )
    else:
        return
    raise ValidationFailed(
        said("The password must have %(rule)s.", rule=field), {"password": field}
    )
