"""tesseract: OCR through libtesseract's C API, one engine kept loaded per thread; the program as fallback.

Why in-process: starting the `tesseract` program and loading `fra` costs about 0.085 s a call, as much
as reading a band. A TessBaseAPI is not thread-safe, so each thread holds its own engines
(`threading.local`), one per language, initialised once and kept for the thread's life.

The same reading as the program: Debian's libtesseract is the library the `tesseract` program runs;
the engine gets the same 8-bit gray or RGB pixels the program would read from a PNM file, the same
page-segmentation mode and `-c` variables, and answers with the same TSV / text / OSD the program
prints (tests/test_ocr_engine.py compares the two on fixture pages). A variable a call sets is put
back to its default after the call and the results are cleared, so no call leaks into the next.

Timeouts (INTAKE_OCR_TIMEOUT, every call): recognition runs under tesseract's own deadline (an
ETEXT_DESC monitor with `TessMonitorSetDeadlineMSecs`), which tesseract checks word by word; past it
the call raises OcrTimeout. Layout analysis before recognition and OSD do not look at that deadline;
their time grows with the pixels, so images above IN_PROCESS_MAX_PIXELS go to the program, which
`subprocess.run(timeout=...)` kills. A call that returns late is still reported as a timeout. (A
watchdog thread would not help: a C call cannot be interrupted from Python, only abandoned.)

The fallback runs `tesseract stdin stdout`: the image goes through a pipe, so no page image is ever
written to disk. It is used when libtesseract cannot be loaded, for a variable the engine refuses
(init-only), and for images too large for the in-process deadline.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

#: Languages the readers use: fra (pages), eng (whitelisted code lines), osd (orientation).
REQUIRED_LANGUAGES = ("fra", "eng", "osd")
#: Debian packages bringing the program and each language.
PACKAGES = {"program": "tesseract-ocr", "fra": "tesseract-ocr-fra", "eng": "tesseract-ocr-eng",
            "osd": "tesseract-ocr-osd"}
#: Larger images are read by the program: layout analysis ignores the in-process deadline.
IN_PROCESS_MAX_PIXELS = 16_000_000
LIBRARY_PACKAGE = "libtesseract5"
LIBRARY_NAMES = ("libtesseract.so.5", "libtesseract.so.4", "libtesseract.so")

PSM_OSD_ONLY = 0
OEM_DEFAULT = 3


class OcrTimeout(RuntimeError):
    """Tesseract did not answer within its timeout."""


class TesseractError(RuntimeError):
    """Tesseract could not read the image (OSD with too few characters, a refused variable...)."""


class EngineUnavailable(RuntimeError):
    """libtesseract cannot be loaded or initialised for a language: the program is used instead."""


# --- the C API ------------------------------------------------------------------------------------

_lib_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_lib_failed: str | None = None


def _declare(lib: ctypes.CDLL) -> None:
    p, c, i, f, d = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_float, ctypes.c_double
    sigs = {
        "TessVersion": (c, []),
        "TessBaseAPICreate": (p, []),
        "TessBaseAPIDelete": (None, [p]),
        "TessBaseAPIEnd": (None, [p]),
        "TessBaseAPIInit4": (i, [p, c, c, i, p, i, ctypes.POINTER(c), ctypes.POINTER(c), ctypes.c_size_t, i]),
        "TessBaseAPISetVariable": (i, [p, c, c]),
        "TessBaseAPIGetStringVariable": (c, [p, c]),
        "TessBaseAPIGetIntVariable": (i, [p, c, ctypes.POINTER(i)]),
        "TessBaseAPIGetBoolVariable": (i, [p, c, ctypes.POINTER(i)]),
        "TessBaseAPIGetDoubleVariable": (i, [p, c, ctypes.POINTER(d)]),
        "TessBaseAPISetPageSegMode": (None, [p, i]),
        "TessBaseAPISetImage": (None, [p, p, i, i, i, i]),
        "TessBaseAPIRecognize": (i, [p, p]),
        "TessBaseAPIGetTsvText": (p, [p, i]),
        "TessBaseAPIGetUTF8Text": (p, [p]),
        "TessBaseAPIDetectOrientationScript": (i, [p, ctypes.POINTER(i), ctypes.POINTER(f), p, ctypes.POINTER(f)]),
        "TessBaseAPIClear": (None, [p]),
        "TessBaseAPIClearAdaptiveClassifier": (None, [p]),
        "TessDeleteText": (None, [p]),
        "TessMonitorCreate": (p, []),
        "TessMonitorDelete": (None, [p]),
        "TessMonitorSetDeadlineMSecs": (None, [p, i]),
    }
    for name, (restype, argtypes) in sigs.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes


def library() -> ctypes.CDLL | None:
    """libtesseract, loaded once per process; None (and the reason kept) when it cannot be.

    OMP_THREAD_LIMIT=1 is put in the environment before loading, when not already set: libgomp
    reads it once, at load. Parallelism comes from reading several pages at once, not from
    tesseract's own threads, which only fight each other on a small machine."""
    global _lib, _lib_failed
    if _lib is not None or _lib_failed is not None:
        return _lib
    with _lib_lock:
        if _lib is None and _lib_failed is None:
            os.environ.setdefault("OMP_THREAD_LIMIT", "1")
            names = list(LIBRARY_NAMES)
            found = ctypes.util.find_library("tesseract")
            if found:
                names.append(found)
            for name in names:
                try:
                    lib = ctypes.CDLL(name)
                    _declare(lib)
                except (OSError, AttributeError) as exc:
                    _lib_failed = f"{name}: {exc}"
                    continue
                _lib, _lib_failed = lib, None
                _quiet_leptonica()
                break
    return _lib


#: leptonica's L_SEVERITY_NONE: its error messages ("Error in pixScanForForeground: invalid box",
#: harmless on blank crops) went to the program's stderr, which was swallowed; so do they now.
_L_SEVERITY_NONE = 6


def _quiet_leptonica() -> None:
    try:
        lept = ctypes.CDLL(ctypes.util.find_library("lept") or "liblept.so.5")
        lept.setMsgSeverity.argtypes, lept.setMsgSeverity.restype = [ctypes.c_int], ctypes.c_int
        lept.setMsgSeverity(_L_SEVERITY_NONE)
    except (OSError, AttributeError):
        pass


def library_version() -> str | None:
    lib = library()
    return lib.TessVersion().decode() if lib is not None else None


def _as_pixels(image) -> np.ndarray:
    """8-bit gray (H, W) or RGB (H, W, 3), C-contiguous: what the program reads from a PGM / PPM.
    OpenCV arrays are BGR; PIL images are taken in their own mode."""
    from PIL import Image

    if isinstance(image, Image.Image):
        if "A" in image.getbands():  # as pytesseract did: alpha flattened on white
            background = Image.new("RGB", image.size, (255, 255, 255))
            background.paste(image, (0, 0), image.getchannel("A"))
            image = background
        if image.mode not in ("L", "RGB"):
            image = image.convert("RGB")
        return np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 3:
        import cv2

        code = cv2.COLOR_BGRA2RGB if array.shape[2] == 4 else cv2.COLOR_BGR2RGB
        array = cv2.cvtColor(array, code)
    if array.ndim != 2 and not (array.ndim == 3 and array.shape[2] == 3):
        raise TesseractError("image de forme inattendue")
    return np.ascontiguousarray(array)


class Engine:
    """One initialised TessBaseAPI for one language. Not thread-safe: use `engine(lang)`."""

    def __init__(self, lang: str):
        lib = library()
        if lib is None:
            raise EngineUnavailable(f"libtesseract introuvable ({_lib_failed})")
        self._lib = lib
        self.lang = lang
        self._handle = lib.TessBaseAPICreate()
        # tesseract's messages ("Estimating resolution as ...") would go to our stderr: the
        # program's stderr was swallowed, so are they.
        names = (ctypes.c_char_p * 1)(b"debug_file")
        values = (ctypes.c_char_p * 1)(os.devnull.encode())
        if lib.TessBaseAPIInit4(self._handle, None, lang.encode(), OEM_DEFAULT, None, 0, names, values, 1, 0):
            lib.TessBaseAPIDelete(self._handle)
            self._handle = None
            raise EngineUnavailable(f"données tesseract « {lang} » introuvables")
        self._defaults: dict[str, str] = {}
        self._monitor = lib.TessMonitorCreate()

    def close(self) -> None:
        if self._handle is not None:
            self._lib.TessMonitorDelete(self._monitor)
            self._lib.TessBaseAPIEnd(self._handle)
            self._lib.TessBaseAPIDelete(self._handle)
            self._handle = None

    def __del__(self):  # a thread's engines go with the thread
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def _get(self, name: str) -> str | None:
        lib, h, key = self._lib, self._handle, name.encode()
        value = lib.TessBaseAPIGetStringVariable(h, key)
        if value is not None:
            return value.decode()
        number = ctypes.c_int()
        if lib.TessBaseAPIGetIntVariable(h, key, ctypes.byref(number)):
            return str(number.value)
        if lib.TessBaseAPIGetBoolVariable(h, key, ctypes.byref(number)):
            return "1" if number.value else "0"
        real = ctypes.c_double()
        if lib.TessBaseAPIGetDoubleVariable(h, key, ctypes.byref(real)):
            return repr(real.value)
        return None

    def _set(self, variables: dict[str, str]) -> None:
        for name, value in variables.items():
            if name not in self._defaults:
                default = self._get(name)
                if default is None:
                    raise EngineUnavailable(f"variable tesseract inconnue : {name}")
                self._defaults[name] = default
            if not self._lib.TessBaseAPISetVariable(self._handle, name.encode(), str(value).encode()):
                raise EngineUnavailable(f"variable tesseract refusée hors initialisation : {name}")

    def _reset(self, variables: dict[str, str]) -> None:
        for name in variables:
            if name in self._defaults:
                self._lib.TessBaseAPISetVariable(self._handle, name.encode(), self._defaults[name].encode())
        self._lib.TessBaseAPIClear(self._handle)

    def _set_image(self, pixels: np.ndarray) -> None:
        h, w = pixels.shape[:2]
        bpp = 1 if pixels.ndim == 2 else 3
        self._lib.TessBaseAPISetImage(self._handle, pixels.ctypes.data, w, h, bpp, pixels.strides[0])

    def _take_text(self, pointer) -> str:
        if not pointer:
            return ""
        try:
            return ctypes.string_at(pointer).decode("utf-8", "replace")
        finally:
            self._lib.TessDeleteText(pointer)

    def read(self, pixels: np.ndarray, psm: int, variables: dict[str, str], timeout: float,
             output: str) -> str:
        """`output` "tsv" (the rows, without the header line) or "text"; OcrTimeout past `timeout`."""
        lib, h = self._lib, self._handle
        started = time.monotonic()
        try:
            self._set(variables)
            lib.TessBaseAPISetPageSegMode(h, psm)
            self._set_image(pixels)
            lib.TessMonitorSetDeadlineMSecs(self._monitor, max(1, int(timeout * 1000)))
            failed = lib.TessBaseAPIRecognize(h, self._monitor)
            late = time.monotonic() - started > timeout
            if late:
                raise OcrTimeout(f"tesseract n'a pas fini en {timeout:g} s")
            if failed:  # not the deadline: let the program read it, as before
                raise EngineUnavailable("la reconnaissance a échoué")
            if output == "tsv":
                return self._take_text(lib.TessBaseAPIGetTsvText(h, 0))
            return self._take_text(lib.TessBaseAPIGetUTF8Text(h))
        finally:
            self._reset(variables)

    def orientation(self, pixels: np.ndarray, timeout: float) -> tuple[int, float]:
        """(degrees clockwise to turn upright, confidence), as the program's `--psm 0` prints them."""
        lib, h = self._lib, self._handle
        started = time.monotonic()
        try:
            lib.TessBaseAPISetPageSegMode(h, PSM_OSD_ONLY)
            self._set_image(pixels)
            degrees, conf, script_conf = ctypes.c_int(), ctypes.c_float(), ctypes.c_float()
            ok = lib.TessBaseAPIDetectOrientationScript(h, ctypes.byref(degrees), ctypes.byref(conf), None,
                                                        ctypes.byref(script_conf))
            if time.monotonic() - started > timeout:
                raise OcrTimeout(f"tesseract n'a pas fini en {timeout:g} s")
            if not ok:
                raise TesseractError("orientation : trop peu de caractères")
            # the program prints "Rotate: " from the orientation: 90 counter-clockwise is 270 clockwise
            rotate = {0: 0, 90: 270, 180: 180, 270: 90}.get(degrees.value % 360, 0)
            return rotate, float(f"{conf.value:.2f}")
        finally:
            lib.TessBaseAPIClear(h)
            lib.TessBaseAPIClearAdaptiveClassifier(h)


_local = threading.local()


def engine(lang: str) -> Engine:
    """This thread's engine for `lang`, created on first use and kept; EngineUnavailable when it
    cannot be (remembered, so a thread does not retry at every call)."""
    engines = getattr(_local, "engines", None)
    if engines is None:
        engines = _local.engines = {}
    found = engines.get(lang)
    if isinstance(found, EngineUnavailable):
        raise found
    if found is None:
        try:
            found = engines[lang] = Engine(lang)
        except EngineUnavailable as exc:
            engines[lang] = exc
            raise
    return found


# --- the program (fallback) -------------------------------------------------------------------------

def _pnm(pixels: np.ndarray) -> bytes:
    h, w = pixels.shape[:2]
    magic = b"P5" if pixels.ndim == 2 else b"P6"
    return magic + f"\n{w} {h}\n255\n".encode() + pixels.tobytes()


def _program(pixels: np.ndarray, args: list[str], timeout: float) -> str:
    exe = shutil.which("tesseract")
    if exe is None:
        raise TesseractError("le programme tesseract est introuvable")
    cmd = [exe, "stdin", "stdout", *args]
    try:
        proc = subprocess.run(cmd, input=_pnm(pixels), capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise OcrTimeout(f"tesseract n'a pas fini en {timeout:g} s") from None
    if proc.returncode != 0:
        # stderr is tesseract's own diagnostics, never the page text
        raise TesseractError(f"tesseract a échoué ({proc.returncode}) : "
                             f"{proc.stderr.decode('utf-8', 'replace').strip()[-200:]}")
    return proc.stdout.decode("utf-8", "replace")


def _config_args(variables: dict[str, str]) -> list[str]:
    return [arg for name, value in variables.items() for arg in ("-c", f"{name}={value}")]


_TSV_HEADER = "level\tpage_num\tblock_num"


# --- the calls the readers make ------------------------------------------------------------------------

_last = threading.local()


def last_call_in_process() -> bool | None:
    """Whether this thread's last call ran in-process (True) or through the program (False)."""
    return getattr(_last, "in_process", None)


def _in_process_ok(pixels: np.ndarray, force_program: bool) -> bool:
    return (not force_program and library() is not None
            and pixels.shape[0] * pixels.shape[1] <= IN_PROCESS_MAX_PIXELS)


def _engine_or_none(lang: str) -> Engine | None:
    try:
        return engine(lang)
    except EngineUnavailable as exc:
        log.debug("in-process tesseract unavailable for %s: %s", lang, exc)
        return None


def read(image, lang: str, psm: int, variables: dict[str, str], timeout: float, output: str,
         force_program: bool = False) -> str:
    """TSV rows (no header) or plain text of an image, as `tesseract ... [tsv]` prints them."""
    pixels = _as_pixels(image)
    if min(pixels.shape[:2]) == 0:
        return ""
    if _in_process_ok(pixels, force_program):
        eng = _engine_or_none(lang)
        if eng is not None:
            try:
                out = eng.read(pixels, psm, variables, timeout, output)
                _last.in_process = True
                return out
            except EngineUnavailable as exc:
                log.debug("in-process tesseract refused the call: %s", exc)
    args = ["-l", lang, "--psm", str(psm), *_config_args(variables)]
    if output == "tsv":
        args.append("tsv")
    out = _program(pixels, args, timeout)
    _last.in_process = False
    if output == "tsv" and out.startswith(_TSV_HEADER):
        out = out.split("\n", 1)[1] if "\n" in out else ""
    return out


_OSD_ROTATE = re.compile(r"^Rotate:\s*(\d+)", re.M)
_OSD_CONF = re.compile(r"^Orientation confidence:\s*([\d.]+)", re.M)


def orientation(image, timeout: float, force_program: bool = False) -> tuple[int, float]:
    """Tesseract OSD: (degrees clockwise to turn upright, confidence); TesseractError when it cannot."""
    pixels = _as_pixels(image)
    if _in_process_ok(pixels, force_program):
        eng = _engine_or_none("osd")
        if eng is not None:
            _last.in_process = True
            return eng.orientation(pixels, timeout)
    out = _program(pixels, ["--psm", "0"], timeout)
    _last.in_process = False
    rotate, conf = _OSD_ROTATE.search(out), _OSD_CONF.search(out)
    if rotate is None:
        raise TesseractError("orientation : trop peu de caractères")
    return int(rotate.group(1)), float(conf.group(1)) if conf else 0.0


# --- probe ----------------------------------------------------------------------------------------------

_TESSDATA_GUESSES = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata",
                     "/usr/share/tessdata", "/usr/local/share/tessdata")


def tessdata_dir() -> Path | None:
    """Where tesseract looks for its languages: TESSDATA_PREFIX when set (tesseract 4 and 5 take it
    as the tessdata folder itself), else the usual Debian and /usr/local places."""
    prefix = os.environ.get("TESSDATA_PREFIX")
    if prefix:
        path = Path(prefix)
        # tesseract 3 took the folder above tessdata: accept both spellings
        return path / "tessdata" if not any(path.glob("*.traineddata")) and (path / "tessdata").is_dir() else path
    for guess in _TESSDATA_GUESSES:
        if Path(guess).is_dir():
            return Path(guess)
    return None


def languages() -> list[str]:
    folder = tessdata_dir()
    if folder is None or not folder.is_dir():
        return []
    return sorted(p.name[: -len(".traineddata")] for p in folder.glob("*.traineddata"))


def missing_requirements() -> list[tuple[str, list[str]]]:
    """(French description, Debian packages) of what intake needs from tesseract and lacks."""
    out = []
    if shutil.which("tesseract") is None:
        out.append(("le programme tesseract", [PACKAGES["program"]]))
    have = set(languages())
    lacking = [lang for lang in REQUIRED_LANGUAGES if lang not in have]
    if lacking:
        where = tessdata_dir()
        out.append((f"les données de langue tesseract {', '.join(lacking)} (dans {where or 'aucun dossier tessdata'})",
                    [PACKAGES[lang] for lang in lacking]))
    return out


def probe():
    """Version of the program and of the library, languages found, what is missing."""
    from intake.tools.base import Probe

    exe = shutil.which("tesseract")
    version = ""
    if exe:
        try:
            proc = subprocess.run([exe, "--version"], capture_output=True, timeout=10)
            first = (proc.stdout or proc.stderr).decode("utf-8", "replace").splitlines()
            version = first[0].replace("tesseract", "").strip() if first else ""
        except (subprocess.TimeoutExpired, OSError):
            version = "?"
    problems = missing_requirements()
    lib_version = library_version()
    details = {
        "programme": exe or "introuvable",
        "bibliothèque": f"libtesseract {lib_version} (moteur gardé chargé)" if lib_version else "introuvable",
        "langues": ", ".join(languages()) or "aucune",
        "dossier tessdata": str(tessdata_dir() or "introuvable"),
    }
    notes = [] if lib_version else ["libtesseract introuvable : chaque lecture lance le programme (plus lent)"]
    install = sorted({p for _, pkgs in problems for p in pkgs}) + ([] if lib_version else [LIBRARY_PACKAGE])
    return Probe(name="tesseract", found=exe is not None, version=version, details=details,
                 missing=[text for text, _ in problems], notes=notes, install=install)
