"""Stage 3: one parser per guide section, each a function of (section, ctx)."""

from .. import _native

_native.extend(__path__, "sections")
