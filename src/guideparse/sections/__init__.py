"""Stage 3: one parser per guide section, each a function of (section, ctx)."""
