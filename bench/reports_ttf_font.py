"""Write the bundled Noto Sans KR as a TrueType-outline font, for `bench.reports_variants` (font:DIR).

    python -m bench.reports_ttf_font OUT_DIR [--keep-hanja]

Subsets the bundled OTF (CFF outlines) to Latin, Greek, punctuation, arrows, maths, enclosed
numbers, shapes, Hangul jamo and syllables, CJK punctuation and full-width forms (Hanja too with
--keep-hanja), every layout feature kept, then converts the outlines to quadratic TrueType curves
(fontTools cu2qu, max error 1 unit of 1000 per em). Measurement only: the product still embeds the
OTF. Takes about a minute of CPU without Hanja.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable

from dreamseed.reports.pdf import bundled_font_dirs

FONT_FILE = "NotoSansKR-Regular.otf"
UNICODES = (
    "U+0000-024F,U+0370-03FF,U+2000-206F,U+20A0-20CF,U+2100-214F,U+2190-21FF,U+2200-22FF,U+2460-24FF,"
    "U+25A0-25FF,U+1100-11FF,U+3000-303F,U+3130-318F,U+A960-A97F,U+AC00-D7A3,U+D7B0-D7FF,U+FF00-FFEF"
)
HANJA = "U+3400-4DBF,U+4E00-9FFF,U+F900-FAFF"
MAX_ERROR = 1.0
"""Largest distance between a cubic and its quadratic approximation, in font units (1000 per em)."""


def subset_font(source: Path, unicodes: str) -> TTFont:
    """The font at ``source`` with only the characters of ``unicodes`` (and their layout features)."""
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.glyph_names = True
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=subset.parse_unicodes(unicodes))
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)  # reloaded, so that saving after the conversion recomputes the glyph bounds
    buffer.seek(0)
    return TTFont(buffer)


def to_truetype(font: TTFont) -> None:
    """Replace the CFF outlines of ``font`` by TrueType ``glyf`` outlines, in place."""
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, MAX_ERROR, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["maxp"] = maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for field in [
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
        "maxPoints",
        "maxContours",
        "maxCompositePoints",
        "maxCompositeContours",
        "maxComponentDepth",
    ]:
        setattr(maxp, field, 1 if field == "maxZones" else 0)
    post = font["post"]
    post.formatType, post.extraNames, post.mapping, post.glyphOrder = 2.0, [], {}, order
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    font.sfntVersion = "\000\001\000\000"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--keep-hanja", action="store_true")
    args = parser.parse_args()
    [directory] = bundled_font_dirs()
    font = subset_font(Path(directory) / FONT_FILE, UNICODES + ("," + HANJA if args.keep_hanja else ""))
    to_truetype(font)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    target = args.out_dir / "NotoSansKR-Regular.ttf"
    font.save(str(target))
    print(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
