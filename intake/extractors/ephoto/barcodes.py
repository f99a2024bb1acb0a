"""The barcodes of an e-photo sheet: their payloads, and the sheet with them made white.

Booths and photographers print the code as a QR, DataMatrix or Code 128 too. A barcode also spoils
the OCR of the print around it: tesseract estimates the size of the print from its ink, and the
bars of a Code 128 make it take the page for a 1600 dpi scan whose letters are specks ("Empty
page!!" on a clean photographer's sheet, its date and code lost). Read with its barcodes made white,
the same page reads.
"""

from __future__ import annotations

import numpy as np

#: Rows of a linear code's bars are at least this much ink over the code's width; a line of text
#: over the same width is far less.
_BAR_ROW_INK = 0.3


def _formats():
    import zxingcpp

    return [zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.DataMatrix, zxingcpp.BarcodeFormat.Code128]


def barcode_texts(image: np.ndarray, code_found=None) -> list[str]:
    """QR, DataMatrix and Code 128 payloads of a sheet. A second pass binarises the whole page at
    once: a photographed sheet's uneven light breaks the bars of a linear code for the local
    binariser. `code_found(texts)` says whether the first pass found the code (then no second pass)."""
    try:
        import zxingcpp

        texts = [r.text for r in zxingcpp.read_barcodes(image, formats=_formats())]
        if code_found is None or not code_found(texts):
            texts += [r.text for r in zxingcpp.read_barcodes(image, formats=_formats(),
                                                            binarizer=zxingcpp.Binarizer.GlobalHistogram)]
        return texts
    except Exception:
        return []


def _bar_rows(ink: np.ndarray, x0: int, x1: int, y0: int, y1: int) -> tuple[int, int]:
    """(top, bottom) of a linear code's bars around rows y0..y1: zxing gives a linear code's place
    as the scan lines it read, often one row; the bars run above and below it."""
    h = ink.shape[0]
    span = max(1, x1 - x0)

    def barred(y):
        return np.count_nonzero(ink[y, x0:x1]) >= _BAR_ROW_INK * span

    while y0 > 0 and barred(y0 - 1):
        y0 -= 1
    while y1 < h - 1 and barred(y1 + 1):
        y1 += 1
    return y0, y1


#: A linear code has at least this many bars side by side (a Code 128 of 22 characters has some
#: 70); letters as tall and thin (I, l, 1) are never that many in a row, level at top and bottom.
MIN_BARS = 12


def linear_code_boxes(gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) of linear barcodes found by the geometry of their bars alone: a row
    of at least MIN_BARS ink strokes 4 times taller than wide or more, of one height, level at top
    and bottom, closer to each other than half their height. zxing finds no barcode it cannot
    decode, and a phone photo's blur or a low resolution spoils the decoding long before the bars
    stop spoiling tesseract's reading of the print around them."""
    import cv2

    g = gray if gray.ndim == 2 else cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY)
    _, ink = cv2.threshold(g, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    x, y, w, h = (stats[1:, i] for i in range(4))
    bars = np.flatnonzero((h >= 20) & (h >= 4 * w))
    if len(bars) < MIN_BARS:
        return []
    bars = bars[np.argsort(x[bars])]
    taken: set[int] = set()
    boxes = []
    for i in bars:
        if i in taken:
            continue
        level = bars[(np.abs(y[bars] - y[i]) <= 0.15 * h[i]) & (np.abs(y[bars] + h[bars] - y[i] - h[i]) <= 0.15 * h[i])
                     & (x[bars] > x[i])]
        row = [i]
        for j in level:
            last = row[-1]
            if x[j] - (x[last] + w[last]) > 0.5 * h[i]:
                break
            if j not in taken:
                row.append(j)
        if len(row) < MIN_BARS:
            continue
        taken.update(row)
        r = np.array(row)
        x0, x1 = int(x[r].min()), int((x[r] + w[r]).max())
        if x1 - x0 >= 1.5 * float(np.median(h[r])):
            boxes.append((x0, int(y[r].min()), x1, int((y[r] + h[r]).max())))
    return boxes


def without_barcodes(gray: np.ndarray, thorough: bool = True) -> tuple[np.ndarray, int]:
    """`gray` with every barcode zxing finds in it painted white (with its quiet margin), and how
    many were found (0: the image itself is returned). `thorough`: a second pass with the global
    binariser when the first finds nothing (about 0.1 s more on a page), then the linear codes
    found by their bars alone (`linear_code_boxes`, about 0.05 s)."""
    import cv2

    try:
        import zxingcpp

        found = list(zxingcpp.read_barcodes(gray, formats=_formats()))
        if not found and thorough:
            found = list(zxingcpp.read_barcodes(gray, formats=_formats(), binarizer=zxingcpp.Binarizer.GlobalHistogram))
    except Exception:
        found = []
    if not found:
        boxes = linear_code_boxes(gray) if thorough else []
        if not boxes:
            return gray, 0
        out = gray.copy()
        rows, cols = out.shape[:2]
        for x0, y0, x1, y1 in boxes:
            mx, my = max(4, int(0.05 * (x1 - x0))), 3
            out[max(0, y0 - my):min(rows, y1 + my + 1), max(0, x0 - mx):min(cols, x1 + mx + 1)] = 255
        return out, len(boxes)
    out = gray.copy()
    _, ink = cv2.threshold(gray if gray.ndim == 2 else cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY), 0, 255,
                           cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    h, w = ink.shape
    for result in found:
        p = result.position
        corners = np.array([[c.x, c.y] for c in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)],
                           dtype=np.float32)
        x0, y0 = np.floor(corners.min(axis=0)).astype(int)
        x1, y1 = np.ceil(corners.max(axis=0)).astype(int)
        x0, x1 = max(0, x0), min(w - 1, x1)
        y0, y1 = max(0, y0), min(h - 1, y1)
        if y1 - y0 < 0.25 * (x1 - x0):
            # a linear code: grown to its bars, and to its quiet zones left and right only (its
            # text, the e-photo code itself, is printed right under the bars)
            y0, y1 = _bar_rows(ink, x0, x1, y0, y1)
            mx, my = max(4, int(0.05 * (x1 - x0))), 2
        else:
            # a 2D code: its quiet zone and the modules' blur all round
            mx = my = max(4, int(0.08 * max(x1 - x0, y1 - y0)))
        out[max(0, y0 - my):min(h, y1 + my + 1), max(0, x0 - mx):min(w, x1 + mx + 1)] = 255
    return out, len(found)
