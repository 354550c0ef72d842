"""aiogram with its Telegram types built when they are first used, not all of them at import.

`aiogram.types` ends its import by rebuilding each of its 300-odd pydantic models (they are
declared `defer_build`) with a namespace of all of them, and every model builds its own
validator and serializer, each with the whole tree of the types it holds: that is 95 MB of
memory and three seconds of start-up in a process that reads updates and sends a handful of
methods. `defer_aiogram_models()` (called by `bot/__init__.py`, so before anything of ours
imports aiogram) makes that loop only hand each model the namespace, as the parent namespace
pydantic resolves a deferred model's names in; pydantic then builds a model the first time it
validates or serializes one, its own `defer_build`. The methods, built when their classes are
created and before the types they name can be resolved, and `Response`, whose parametrized
classes inherit it, get the same namespace. Nothing else changes: the schemas built are the
ones aiogram's loop would build, and a model the bot never uses is never built. The Telegram
channel builds the models it uses when it is imported (`build_now`, in
`bot.channels.telegram`), so the first update pays nothing and a model that could not be built
fails at start.

If aiogram was imported before the hook, or no longer rebuilds its types that way, aiogram is
imported as it is: everything built at import, as before.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

PACKAGE = "aiogram"
_types_namespace: dict[str, Any] = {}  # aiogram's names of its types, once deferred


def defer_aiogram_models() -> None:
    """Have aiogram, when it is imported, leave its models to be built on first use."""
    if PACKAGE in sys.modules or any(isinstance(f, _AiogramFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _AiogramFinder())


class _AiogramFinder(importlib.abc.MetaPathFinder):
    """Finds aiogram as the other finders do and wraps its loader; then steps aside."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != PACKAGE:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and isinstance(spec.loader, importlib.abc.Loader):
            spec.loader = _DeferringLoader(spec.loader)
        return spec


class _DeferringLoader(importlib.abc.Loader):
    """aiogram's own loader, running the package's import with the types' rebuild deferred."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with _rebuilds_deferred() as namespaces:
            self._loader.exec_module(module)
        for namespace in namespaces:
            _types_namespace.update(namespace)
        if namespaces:
            _hand_over()

    def __getattr__(self, name: str) -> Any:  # resources, source: as aiogram's loader has them
        return getattr(self._loader, name)


@contextmanager
def _rebuilds_deferred() -> Iterator[list[dict[str, Any]]]:
    """While aiogram is imported, a rebuild of one of its incomplete models with a types
    namespace (the end of `aiogram.types`) only keeps that namespace on the model."""
    from pydantic import BaseModel

    original = BaseModel.__dict__["model_rebuild"]
    namespaces: list[dict[str, Any]] = []  # one, unless aiogram changes its loop

    def model_rebuild(
        cls: type[BaseModel], /, *, _types_namespace: dict[str, Any] | None = None, **options: Any
    ) -> bool | None:
        if (
            _types_namespace is not None
            and cls.__module__.startswith(f"{PACKAGE}.")
            and not cls.__pydantic_complete__
        ):
            cls.__pydantic_parent_namespace__ = _types_namespace  # one dict, shared by all
            if not namespaces or namespaces[-1] is not _types_namespace:
                namespaces.append(_types_namespace)
            return None
        rebuilt: bool | None = original.__func__(cls, _types_namespace=_types_namespace, **options)
        return rebuilt

    BaseModel.model_rebuild = classmethod(model_rebuild)  # type: ignore[method-assign, assignment]
    try:
        yield namespaces
    finally:
        BaseModel.model_rebuild = original  # type: ignore[method-assign]


def build_now(*models: type[BaseModel]) -> None:
    """Build these models now, if they were left to their first use: aiogram's, and ours
    derived from them (a subclass made after the import is not handed the namespace)."""
    for model in models:
        if not model.__pydantic_complete__:
            model.model_rebuild(_types_namespace=_types_namespace)


def _hand_over() -> None:
    """The types' namespace to the models built outside that loop: the methods not yet built
    (they name types that were not) and `Response` (its parametrized classes are made later)."""
    namespace = _types_namespace
    from aiogram.methods import TelegramMethod
    from aiogram.methods.base import Response

    pending: list[type[Any]] = [TelegramMethod, Response]
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model is Response or not model.__pydantic_complete__:
            own = model.__pydantic_parent_namespace__
            model.__pydantic_parent_namespace__ = {**namespace, **own} if own else namespace
