"""An article's language when neither feeds.yaml nor the feed says: from the scripts it uses.

Only the four languages the classifier is trained on are named; anything else is unknown
(None) rather than guessed.
"""

from __future__ import annotations

import re

_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_KANA = re.compile("[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile("[A-Za-z]")
_ENGLISH = re.compile(r"\b(?:the|and|of|to|in|is|for|on|with|from|by|at|as)\b", re.IGNORECASE)
_LANGUAGE_TAG = re.compile(r"^\s*([A-Za-z]{2,3})(?:[-_]|$)")


def primary_language(tag: str | None) -> str | None:
    """ "en-US" -> "en", "ko_KR" -> "ko"; None for anything that is not a language tag."""
    match = _LANGUAGE_TAG.match(tag or "")
    return match.group(1).lower() if match else None


def detect_language(text: str) -> str | None:
    """ "ko", "ja", "zh", "en" or None, from the share of each script among the letters."""
    sample = text[:2000]
    hangul, kana = len(_HANGUL.findall(sample)), len(_KANA.findall(sample))
    han, latin = len(_HAN.findall(sample)), len(_LATIN.findall(sample))
    letters = hangul + kana + han + latin
    if not letters:
        return None
    if hangul >= 0.2 * letters:
        return "ko"
    if kana and kana >= 0.05 * (kana + han) and kana + han >= 0.2 * letters:
        return "ja"
    if han >= 0.2 * letters:
        return "zh"
    if len(_ENGLISH.findall(sample)) >= 2:
        return "en"
    return None
