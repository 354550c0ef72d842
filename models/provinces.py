"""The official list of provinces, communes, wards and special zones (from `vietnam-provinces`),
and finding them however people write them.

People write "TP. Hồ Chí Minh", "Thành phố Huế", "tinh quang ninh"; "P. Hạ Long", "P.Hạ Long",
"UBND phường Hạ Long", "xã Ba Chẽ"; "Sở KH&CN"; and "Tất cả các xã, phường, đặc khu". Names are
compared folded (no accents, no case, no punctuation); a name that matches nothing gets the
closest official names as suggestions (rapidfuzz).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from models.enums import UnitKind
from models.tables import Unit

if TYPE_CHECKING:
    from vietnam_provinces import Province, Ward

# The official list (vietnam_provinces) and rapidfuzz are imported where they are used: the bot
# answering chats needs neither, and they cost its every process a few megabytes.
_KIND_OF_DIVISION = {
    "XA": UnitKind.COMMUNE,
    "PHUONG": UnitKind.WARD,
    "DAC_KHU": UnitKind.SPECIAL_ZONE,
}
_PROVINCE_PREFIXES = ("tinh ", "thanh pho ", "tp ")
_PROVINCE_ALIASES = {"hcm": 79, "tphcm": 79, "saigon": 79, "hochiminhcity": 79, "hue": 46}
# How the kind of a unit is written before its name, in full and abbreviated.
_KIND_WORDS = {
    "xa": "xa",
    "x": "xa",
    "phuong": "phuong",
    "p": "phuong",
    "dac khu": "dac khu",
    "dk": "dac khu",
}
_AUTHORITY_PREFIXES = ("ubnd ", "uy ban nhan dan ")
SUGGESTION_CUTOFF = 60.0


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced: how people's spellings of a name are compared."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def _words(text: str) -> str:
    """Folded, with punctuation as spaces: "P.Hạ Long" → "p ha long", "KH&CN" → "kh cn"."""
    return " ".join(re.sub(r"[^\w]+", " ", fold(text)).replace("_", " ").split())


# ---- provinces -----------------------------------------------------------------------------


def _province_key(text: str) -> str:
    words = _words(text)
    for prefix in _PROVINCE_PREFIXES:
        words = words.removeprefix(prefix)
    return words.replace(" ", "")


def all_provinces() -> list[Province]:
    from vietnam_provinces import Province

    return list(Province.iter_all())


def find_province(name: str) -> Province | None:
    """The province called `name`, however it is typed ("Quảng Ninh", "tinh quang ninh",
    "TP. Hồ Chí Minh", "Huế", "22")."""
    key = _province_key(name)
    if key.isdigit():
        return next((p for p in all_provinces() if p.code.value == int(key)), None)
    if key in _PROVINCE_ALIASES:
        key = str(_PROVINCE_ALIASES[key])
        return next(p for p in all_provinces() if p.code.value == int(key))
    return next((p for p in all_provinces() if _province_key(p.name) == key), None)


def province_named_by(code: str) -> Province | None:
    """The province of a `Unit.province_code`."""
    return next((p for p in all_provinces() if str(p.code.value) == code), None)


def closest_provinces(name: str, limit: int = 3) -> list[str]:
    """The official names nearest to a name that matched none."""
    from rapidfuzz import fuzz, process

    names = {_province_key(p.name): p.name for p in all_provinces()}
    found = process.extract(
        _province_key(name), list(names), scorer=fuzz.WRatio, limit=limit, score_cutoff=50
    )
    return [names[key] for key, _score, _index in found]


def short_province_name(province: Province) -> str:
    """ "Hà Nội" for "Thành phố Hà Nội": how a province is named in running text."""
    return province.name.removeprefix("Thành phố ")


# ---- units ---------------------------------------------------------------------------------


def official_code(ward: Ward) -> str:
    """The five-digit official code of a commune or ward, e.g. `07090`."""
    return f"{ward.code.value:05d}"


def load_units(session: Session, provinces: Iterable[Province]) -> tuple[int, int]:
    """Create or rename the communes, wards and special zones of `provinces`; (added, updated)."""
    from vietnam_provinces import Ward

    existing = {unit.code: unit for unit in session.exec(select(Unit)).all()}
    added = updated = 0
    for province in provinces:
        for ward in Ward.iter_by_province(province.code):
            code = official_code(ward)
            kind = _KIND_OF_DIVISION[ward.division_type.name]
            unit = existing.get(code)
            if unit is None:
                session.add(
                    Unit(
                        code=code,
                        name=ward.name,
                        kind=kind,
                        province_code=str(province.code.value),
                    )
                )
                added += 1
            elif (unit.name, unit.kind) != (ward.name, kind):
                unit.name, unit.kind = ward.name, kind
                session.add(unit)
                updated += 1
    session.flush()
    return added, updated


def load_province_units(session: Session, province: Province) -> tuple[int, int]:
    """Create or rename one province's communes, wards and special zones; (added, updated)."""
    return load_units(session, [province])


def _unit_keys(name: str) -> list[str]:
    """The keys a unit's official name is found by: in full, without its kind, and for a
    department its usual abbreviation ("Sở Khoa học và Công nghệ" → "Sở KHCN")."""
    words = _words(name)
    keys = [words]
    for written, kind in _KIND_WORDS.items():
        if written == kind and words.startswith(f"{kind} "):
            keys.append(words.removeprefix(f"{kind} "))
    head, _sep, rest = words.partition(" ")
    if head in ("so", "ban") and rest:
        initials = "".join(word[0] for word in rest.split() if word != "va")
        keys.append(f"{head} {initials}")
    return [key.replace(" ", "") for key in keys]


def _reference_key(text: str) -> str:
    """A reference as typed, in the form of `_unit_keys`: "P.Hạ Long" → "phuonghalong"."""
    words = _words(text)
    for prefix in _AUTHORITY_PREFIXES:
        words = words.removeprefix(prefix)
    for written, kind in sorted(_KIND_WORDS.items(), key=lambda item: -len(item[0])):
        if words.startswith(f"{written} "):
            words = f"{kind} {words.removeprefix(f'{written} ')}"
            break
    return words.replace(" ", "")


@dataclass(frozen=True)
class AllUnitsOf:
    """ "Tất cả các xã, phường": every unit of these kinds."""

    kinds: frozenset[UnitKind]


@dataclass
class UnitList:
    """The units one spreadsheet cell names, and the names that name none or several."""

    units: list[Unit] = field(default_factory=list)
    unknown: list[tuple[str, list[str]]] = field(default_factory=list)  # name, suggestions
    ambiguous: list[tuple[str, list[Unit]]] = field(default_factory=list)


_LOCAL = frozenset({UnitKind.COMMUNE, UnitKind.WARD, UnitKind.SPECIAL_ZONE})
_KINDS_IN_WORDS = {
    "xa": UnitKind.COMMUNE,
    "phuong": UnitKind.WARD,
    "dac khu": UnitKind.SPECIAL_ZONE,
    "so": UnitKind.DEPARTMENT,
    "ban": UnitKind.DEPARTMENT,
    "nganh": UnitKind.DEPARTMENT,
    "so ban nganh": UnitKind.DEPARTMENT,
}
_KIND_WORDS_LONGEST_FIRST = sorted(_KINDS_IN_WORDS, key=len, reverse=True)
_ALL_START = re.compile(r"^(tat ca|toan bo|all)( cac| the)?\b ?(?P<rest>.*)$")


def _kinds_named(words: str) -> frozenset[UnitKind] | None:
    """ "xa phuong va dac khu" → those kinds; None if `words` is not only kinds of units."""
    parts = [p for p in re.split(r"\b(?:va|and)\b", words) if p.strip()]
    kinds: set[UnitKind] = set()
    for part in parts:
        words = part.strip()
        written = next((w for w in _KIND_WORDS_LONGEST_FIRST if words.startswith(w)), None)
        if written is None or words.removeprefix(written).strip():
            return None
        kinds.add(_KINDS_IN_WORDS[written])
    return _widened(frozenset(kinds)) if kinds else None


def _widened(kinds: frozenset[UnitKind]) -> frozenset[UnitKind]:
    """ "xã, phường" is how every commune-level unit is named: đặc khu too."""
    return kinds | _LOCAL if {UnitKind.COMMUNE, UnitKind.WARD} <= kinds else kinds


def split_references(text: str) -> list[str | AllUnitsOf]:
    """A cell's unit references: names (`;`, `,` or new lines between them) and "all of"
    phrases ("Tất cả các xã, phường, đặc khu", "Tất cả", "Tất cả các sở, ban, ngành")."""
    references: list[str | AllUnitsOf] = []
    for chunk in re.split(r"[;\n]+", text):
        for piece in chunk.split(","):
            name = piece.strip()
            if not name:
                continue
            words = _words(name)
            start = _ALL_START.match(words)
            if start is not None:
                rest = start.group("rest").strip()
                kinds = _kinds_named(rest) if rest else _LOCAL
                if kinds is not None:
                    references.append(AllUnitsOf(kinds))
                    continue
            previous = references[-1] if references else None
            kinds = _kinds_named(words)
            if isinstance(previous, AllUnitsOf) and kinds is not None:
                # "Tất cả các xã, phường, đặc khu": the kinds after the first belong to it.
                references[-1] = AllUnitsOf(_widened(previous.kinds | kinds))
                continue
            references.append(name)
    return references


class UnitDirectory:
    """Finds units by official code or by name as people type it."""

    def __init__(self, units: Sequence[Unit]) -> None:
        self.units = list(units)
        self.by_code = {u.code.upper(): u for u in units}
        self.by_key: dict[str, list[Unit]] = {}
        for unit in units:
            for key in dict.fromkeys(_unit_keys(unit.name)):
                self.by_key.setdefault(key, []).append(unit)
        self._display = {index: _words(unit.name) for index, unit in enumerate(self.units)}

    def local_units(self) -> list[Unit]:
        return [u for u in self.units if u.kind in _LOCAL]

    def of_kinds(self, kinds: frozenset[UnitKind]) -> list[Unit]:
        return [u for u in self.units if u.kind in kinds]

    def find(self, text: str) -> list[Unit]:
        """The units `text` names: exactly one, none, or several when it is ambiguous."""
        code = text.strip().upper()
        if code in self.by_code:
            return [self.by_code[code]]
        if code.isdigit() and code.zfill(5) in self.by_code:
            return [self.by_code[code.zfill(5)]]
        return list(self.by_key.get(_reference_key(text), []))

    def suggest(self, text: str, limit: int = 3) -> list[Unit]:
        """The official units whose names are closest to `text` (for "did you mean …")."""
        from rapidfuzz import fuzz, process

        found = process.extract(
            _words(text),
            self._display,
            scorer=fuzz.WRatio,
            limit=limit,
            score_cutoff=SUGGESTION_CUTOFF,
        )
        return [self.units[index] for _name, _score, index in found]

    def read_list(self, text: str) -> UnitList:
        """Every unit one cell names, with what could not be placed."""
        result = UnitList()
        for reference in split_references(text):
            if isinstance(reference, AllUnitsOf):
                result.units += self.of_kinds(reference.kinds)
                continue
            found = self.find(reference)
            if len(found) == 1:
                result.units.append(found[0])
            elif found:
                result.ambiguous.append((reference, found))
            else:
                result.unknown.append((reference, [u.name for u in self.suggest(reference)]))
        result.units = list({u.id: u for u in result.units}.values())
        return result
