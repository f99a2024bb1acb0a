"""One reader per kind of printed piece (the text kinds): each fills a page's fields, evidence and
findings from its OCR text. The table from kind to reader is `intake.extractors.page.READERS`."""
