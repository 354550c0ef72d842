"""The official list of communes, wards and special zones, from `vietnam-provinces`."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from sqlmodel import Session, select
from vietnam_provinces import Province, VietNamDivisionType, Ward

from models.enums import UnitKind
from models.tables import Unit

_KIND_OF_DIVISION = {
    VietNamDivisionType.XA: UnitKind.COMMUNE,
    VietNamDivisionType.PHUONG: UnitKind.WARD,
    VietNamDivisionType.DAC_KHU: UnitKind.SPECIAL_ZONE,
}
_PROVINCE_PREFIXES = ("tinh ", "thanh pho ", "tp. ", "tp ")
_UNIT_PREFIXES = ("xa ", "phuong ", "dac khu ")


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced: how people's spellings of a name are compared."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def find_province(name: str) -> Province | None:
    """The province called `name`, however it is typed ("Quảng Ninh", "tinh quang ninh", "22")."""
    wanted = fold(name)
    for prefix in _PROVINCE_PREFIXES:
        wanted = wanted.removeprefix(prefix)
    for province in Province.iter_all():
        if wanted in (fold(province.name), str(province.code.value)):
            return province
    return None


def official_code(ward: Ward) -> str:
    """The five-digit official code of a commune or ward, e.g. `07090`."""
    return f"{ward.code.value:05d}"


def load_province_units(session: Session, province: Province) -> tuple[int, int]:
    """Create or rename the province's communes, wards and special zones; (added, updated)."""
    existing = {unit.code: unit for unit in session.exec(select(Unit)).all()}
    added = updated = 0
    for ward in Ward.iter_by_province(province.code):
        code = official_code(ward)
        kind = _KIND_OF_DIVISION[ward.division_type]
        unit = existing.get(code)
        if unit is None:
            session.add(
                Unit(code=code, name=ward.name, kind=kind, province_code=str(province.code.value))
            )
            added += 1
        elif (unit.name, unit.kind) != (ward.name, kind):
            unit.name, unit.kind = ward.name, kind
            session.add(unit)
            updated += 1
    session.flush()
    return added, updated


class UnitDirectory:
    """Finds units by official code or by name as people type it."""

    def __init__(self, units: Sequence[Unit]) -> None:
        self.units = list(units)
        self.by_code = {u.code.upper(): u for u in units}
        self.by_name: dict[str, list[Unit]] = {}
        for unit in units:
            folded = fold(unit.name)
            self.by_name.setdefault(folded, []).append(unit)
            for prefix in _UNIT_PREFIXES:
                if folded.startswith(prefix):
                    self.by_name.setdefault(folded.removeprefix(prefix), []).append(unit)

    def local_units(self) -> list[Unit]:
        return [u for u in self.units if u.kind != UnitKind.DEPARTMENT]

    def find(self, text: str) -> list[Unit]:
        """The units `text` names: exactly one, none, or several when it is ambiguous."""
        code = text.strip().upper()
        if code in self.by_code:
            return [self.by_code[code]]
        if code.isdigit() and code.zfill(5) in self.by_code:
            return [self.by_code[code.zfill(5)]]
        return self.by_name.get(fold(text), [])
