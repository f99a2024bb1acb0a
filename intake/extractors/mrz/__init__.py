"""The machine-readable zone of identity cards, passports and residence permits: `locate` finds the
band, `ocr` reads its glyphs, `parse` checks and decodes them, `reader` ties the three together."""
