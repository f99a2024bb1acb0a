"""Text OCR: `words` calls tesseract (words with boxes, plain text, orientation), `orient` turns and
straightens pages, `page_text` reads a page's bands on demand."""
