"""The e-photo code: `code` finds and checks the 22-character code (text, glyphs, barcodes), `sheet`
reads a booth's or photographer's sheet (code and photo date) into a piece's fields."""
