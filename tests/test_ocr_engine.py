"""The tesseract engine kept loaded in the process reads exactly what the `tesseract` program reads,
honours the whitelist and its timeout, and leaves no page image behind."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import cv2
import pytest

from intake.extractors.ocr import words as ocr
from intake.extractors.ocr.page_text import TESS_CONFIG
from intake.tools import tesseract

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "fixtures" / "sample"


@pytest.fixture(scope="module")
def jdc_top():
    """The top 42 % of the sample's JDC certificate, gray: the band the page reader reads first."""
    image = cv2.imread(str(SAMPLE / "piece4.jpg"))
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return gray[: gray.shape[0] * 42 // 100]


def test_engine_reads_the_same_words_as_the_program(jdc_top):
    # Given the first band of a real fixture page
    # When it is read in-process and by the tesseract program, as the page reader asks
    in_process = ocr.image_to_words(jdc_top, lang="fra", psm=3, config=TESS_CONFIG)
    assert tesseract.last_call_in_process() is True
    variables = ocr.parse_config(TESS_CONFIG)
    program = ocr.parse_tsv(tesseract.read(jdc_top, "fra", 3, variables, 60, "tsv", force_program=True))
    assert tesseract.last_call_in_process() is False
    # Then both give the same words, boxes, confidences, blocks and lines
    assert len(in_process) > 20
    assert in_process == program
    assert any("JEUNESSE" in w.text.upper() for w in in_process)


def test_engine_reads_the_same_text_and_orientation_as_the_program(jdc_top):
    # Given the band, and the band upside down
    upside_down = cv2.rotate(jdc_top, cv2.ROTATE_180)
    # When plain text and OSD are asked both ways
    text = tesseract.read(jdc_top, "fra", 6, {}, 60, "text")
    assert text == tesseract.read(jdc_top, "fra", 6, {}, 60, "text", force_program=True)
    # Then the orientation agrees too, and says to turn the page half a turn
    small = cv2.resize(upside_down, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    assert ocr.orientation(small) == tesseract.orientation(small, 60, force_program=True)
    assert ocr.orientation(small)[0] == 180


def test_whitelist_is_honoured_and_does_not_leak_into_the_next_call(jdc_top):
    # Given a band with letters, accents and punctuation
    free = ocr.image_to_text(jdc_top, lang="eng", psm=6)
    assert any(ch.isalpha() for ch in free)
    # When it is read with a whitelist of digits and upper-case A to F
    allowed = set("0123456789ABCDEF")
    limited = ocr.image_to_text(jdc_top, lang="eng", psm=6, config="-c tessedit_char_whitelist=0123456789ABCDEF")
    # Then only those characters come out
    assert limited.strip()
    assert set(limited) - set(" \n\f") <= allowed
    # And the next call on the same thread's engine reads freely again
    assert ocr.image_to_text(jdc_top, lang="eng", psm=6) == free


def test_a_tiny_timeout_raises_a_clear_timeout(jdc_top):
    # Given a full band and a timeout far shorter than its reading
    started = time.monotonic()
    # When it is read in-process, then by the program
    with pytest.raises(ocr.OcrTimeout, match="n'a pas fini en"):
        ocr.image_to_words(jdc_top, lang="fra", psm=3, timeout=0.001)
    with pytest.raises(ocr.OcrTimeout, match="n'a pas fini en"):
        tesseract.read(jdc_top, "fra", 3, {}, 0.001, "tsv", force_program=True)
    # Then both gave up early, and the engine still reads afterwards
    assert time.monotonic() - started < 5
    assert ocr.image_to_words(jdc_top, lang="fra", psm=3)


def test_each_thread_has_its_own_engine(jdc_top):
    # Given two threads reading the same band at once
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: (ocr.image_to_words(jdc_top, psm=3, config=TESS_CONFIG),
                                           id(tesseract.engine("fra"))), range(4)))
    # Then they read the same words with engines of their own
    assert all(words == results[0][0] for words, _ in results)
    assert len({engine for _, engine in results}) == 2


def test_a_killed_reader_leaves_no_page_image_in_tmp(tmp_path):
    # Given a reader process with its own TMPDIR and data folder, reading a 3-page PDF
    tmpdir, data = tmp_path / "tmp", tmp_path / "data"
    tmpdir.mkdir()
    pdf = ROOT / "fixtures" / "corpus" / "025-b96_ok" / "piece1.pdf"
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from intake.extractors.ocr import words as ocr
        from intake.extractors.images import open_source
        from intake.settings import get_settings
        source = open_source(Path({str(pdf)!r}), get_settings(), reading=True)
        page = source.render(1)
        ocr.image_to_words(page[:600])
        from intake.tools import tesseract
        tesseract.read(page[:600], "fra", 3, {{}}, 60, "tsv", force_program=True)
        print("ready", flush=True)
        time.sleep(60)
    """)
    env = {**os.environ, "TMPDIR": str(tmpdir), "INTAKE_DATA_DIR": str(data)}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        # When it is killed in the middle of its work
        proc.kill()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    # Then nothing was written to its TMPDIR: the pages not read yet wait in its private folder
    assert list(tmpdir.iterdir()) == []
    [mine] = list((data / "tmp").iterdir())
    assert oct(mine.stat().st_mode & 0o777) == "0o700"
    left = [p for p in mine.rglob("*") if p.is_file()]
    assert left and all(oct(p.stat().st_mode & 0o777) == "0o600" for p in left)
    # And the next process of this host removes the dead one's folder when it starts
    subprocess.run([sys.executable, "-c", "from intake.tools import private_tmp; print(private_tmp())"],
                   env=env, check=True, capture_output=True, timeout=60)
    assert not mine.exists()

