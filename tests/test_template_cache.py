"""Glyph templates are built once per machine and loaded by every later process (issue 19): the
cache must give exactly what a build gives, and never a stale or broken file."""

from __future__ import annotations

import os

import numpy as np

from intake import template_cache


def _counting_build(calls: list):
    def build():
        calls.append(1)
        return {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.ones(4, np.uint8)}
    return build


def test_arrays_are_built_once_then_loaded_from_the_data_folder(data_dir, tmp_path):
    # Given a source file and an empty data folder
    source = tmp_path / "glyphs.py"
    source.write_text("x = 1\n")
    calls: list = []
    # When the arrays are asked for twice
    first = template_cache.cached_arrays("test-glyphs", [source], _counting_build(calls))
    second = template_cache.cached_arrays("test-glyphs", [source], _counting_build(calls))
    # Then they were built once, stored under the data folder's cache/, and loaded the same
    assert len(calls) == 1
    assert list((data_dir / "cache").glob("test-glyphs-*.npz"))
    assert set(second) == {"a", "b"}
    for key in first:
        assert np.array_equal(first[key], second[key]) and first[key].dtype == second[key].dtype


def test_a_changed_source_is_never_served_the_old_arrays(data_dir, tmp_path):
    # Given arrays cached from a source file
    source = tmp_path / "glyphs.py"
    source.write_text("x = 1\n")
    calls: list = []
    template_cache.cached_arrays("test-glyphs", [source], _counting_build(calls))
    # When the source changes (another size and time)
    source.write_text("x = 22\n")
    os.utime(source, ns=(1, 1))
    template_cache.cached_arrays("test-glyphs", [source], _counting_build(calls))
    # Then the arrays are built again, under another name
    assert len(calls) == 2
    assert len(list((data_dir / "cache").glob("test-glyphs-*.npz"))) == 2


def test_a_broken_cache_file_is_rebuilt(data_dir, tmp_path):
    # Given a cache file cut short (a disk that filled up, a process killed while writing)
    source = tmp_path / "glyphs.py"
    source.write_text("x = 1\n")
    path = template_cache.cache_path("test-glyphs", [source])
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK\x03\x04 truncated")
    calls: list = []
    # When the arrays are asked for
    arrays = template_cache.cached_arrays("test-glyphs", [source], _counting_build(calls))
    # Then they are built, not read from the broken file
    assert len(calls) == 1 and arrays["a"].shape == (2, 3)


def test_an_unwritable_data_folder_only_costs_the_rebuild(data_dir, tmp_path):
    # Given a data folder where cache/ cannot be created (a file is in its way)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "cache").write_text("not a folder")
    source = tmp_path / "glyphs.py"
    source.write_text("x = 1\n")
    calls: list = []
    # When the arrays are asked for twice
    template_cache.cached_arrays("test-glyphs", [source], _counting_build(calls))
    arrays = template_cache.cached_arrays("test-glyphs", [source], _counting_build(calls))
    # Then each call builds them and nothing fails
    assert len(calls) == 2 and arrays["b"].tolist() == [1, 1, 1, 1]


def test_the_mrz_templates_from_the_cache_are_the_built_ones(data_dir):
    # Given the MRZ glyph templates of every blur, built and cached by a first use
    from intake.extractors.mrz import ocr

    ocr._template_matrices.cache_clear()
    ocr._template_matrices()
    assert list((data_dir / "cache").glob("mrz-templates-*.npz"))
    # When a later process loads them from the cache (the in-process memo forgotten)
    ocr._template_matrices.cache_clear()
    loaded = ocr._template_matrices()
    # Then every blur's matrix is the one a build gives, in the same order of glyphs
    try:
        for blur in ocr.BLURS:
            matrix, chars = ocr._template_matrix(blur)
            assert chars == list(ocr.ALPHABET)
            assert np.allclose(loaded[blur], ocr._build_template_matrix(blur), atol=1e-6)
    finally:
        ocr._template_matrices.cache_clear()


def test_the_photo_code_templates_from_the_cache_are_the_built_ones(data_dir):
    # Given the e-photo glyph templates, built and cached by a first use
    from intake.extractors.ephoto import code

    code._TEMPLATES = None
    built = code._templates()
    assert list((data_dir / "cache").glob("photo-code-templates-*.npz"))
    # When a later process loads them from the cache
    code._TEMPLATES = None
    try:
        loaded = code._templates()
        # Then the faces and both sets of glyph rows are the built ones
        assert loaded[0] == built[0] and len(loaded[0]) >= 1
        assert np.array_equal(loaded[1], built[1]) and np.array_equal(loaded[2], built[2])
    finally:
        code._TEMPLATES = None
