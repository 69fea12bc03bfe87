"""Build handlers/fonts/JiaolianSansSC-Regular.otf, the CJK font charts are drawn with.

Why: the bot's machines have no CJK system fonts, and a chart whose 汉字 come out as boxes
is worse than none. The full Noto Sans CJK SC Regular is 16 MB; the subset keeps what a
Simplified Chinese chart can need — every character of GBK (its 20902 hanzi, CJK and fullwidth
punctuation), ASCII and Latin-1, a few typographic marks, and every character of the demo
county's names — with hinting, vertical metrics and OpenType layout dropped (matplotlib uses
none of them). It is renamed "Jiaolian Sans SC": the OFL asks a Modified Version not to use
the original's reserved names, and a distinct name never collides with a system Noto.

Regenerate (needs fontTools; the venv has it through matplotlib):

    python3 -m pip download --no-deps -d /tmp/cjk 'mplfonts==0.0.11'
    unzip -o /tmp/cjk/mplfonts-0.0.11-py3-none-any.whl \
        mplfonts/fonts/NotoSansCJKsc-Regular.otf -d /tmp/cjk
    python tools/subset_cjk_font.py /tmp/cjk/mplfonts/fonts/NotoSansCJKsc-Regular.otf

The source is Noto Sans CJK SC Regular 1.004 (SIL OFL 1.1; sha256 1652500938055a23…12dd);
mplfonts is only a convenient registry copy of it. Another OFL release of Noto Sans CJK SC or
Source Han Sans SC works the same. Run from the repository root; the result is deterministic
for a given source, and handlers/fonts/OFL.txt must stay next to it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "handlers" / "fonts" / "JiaolianSansSC-Regular.otf"
FAMILY = "Jiaolian Sans SC"
POSTSCRIPT = "JiaolianSansSC-Regular"
# GBK, not GB2312: names use hanzi GB2312 lacks (玥 喆 昇 祎 彧 堃 赟), and the whole set costs
# 5 MB instead of 1.5 MB. Marks charts use that GBK lacks (its — is U+2015 in Python's codec).
EXTRA = "—–‐‑−…‧·•→←↑↓×÷≥≤≈≠％～·「」『』〈〉《》【】〔〕〇"


def gbk_chars() -> set[str]:
    """Every character GBK encodes (a superset of GB2312): lead bytes 0x81–0xFE, trail
    bytes 0x40–0xFE."""
    out: set[str] = set()
    for row in range(0x81, 0xFF):
        for cell in range(0x40, 0xFF):
            try:
                out.add(bytes((row, cell)).decode("gbk"))
            except UnicodeDecodeError:
                continue
    return out


def demo_chars() -> set[str]:
    """The demo county's names, so a rare surname (贲) can never fall outside the subset."""
    sys.path.insert(0, str(ROOT))
    from storage import demo_county

    names: list[str] = [demo_county.BUREAU, demo_county.ADMIN[0], demo_county.ADMIN[1]]
    for c in demo_county.COMMUNITIES:
        names += [c.name, c.group]
        for s in c.schools:
            names += [s.name, s.principal, *s.aliases]
            for person, subjects in s.teachers:
                names += [person, subjects]
    return set("".join(names))


def wanted() -> set[str]:
    ascii_ = {chr(c) for c in range(0x20, 0x7F)}
    latin1 = {chr(c) for c in range(0xA0, 0x100)}
    return ascii_ | latin1 | gbk_chars() | set(EXTRA) | demo_chars()


def rename(font: TTFont) -> None:
    """Give the Modified Version its own names (OFL condition 3); keep copyright and licence."""
    names = font["name"]
    for rec in list(names.names):
        if rec.nameID in (16, 17, 18, 21, 22):
            names.removeNames(nameID=rec.nameID)
    values = {1: FAMILY, 2: "Regular", 3: f"{POSTSCRIPT};subset", 4: f"{FAMILY} Regular",
              6: POSTSCRIPT}
    for rec in names.names:
        if rec.nameID in values:
            names.setName(values[rec.nameID], rec.nameID, rec.platformID, rec.platEncID,
                          rec.langID)
    cff = font["CFF "].cff
    cff.fontNames = [POSTSCRIPT]
    top = cff.topDictIndex[0]
    top.FullName = f"{FAMILY} Regular"
    top.FamilyName = FAMILY
    if hasattr(top, "FontName"):
        top.FontName = POSTSCRIPT


def build(source: Path, out: Path) -> int:
    options = subset.Options()
    options.hinting = False
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "BASE", "VORG", "vhea", "vmtx", "DSIG"]
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    options.name_languages = [0x409]
    options.notdef_outline = True
    options.recalc_timestamp = False
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    chars = wanted()
    subsetter.populate(unicodes=[ord(c) for c in chars])
    subsetter.subset(font)
    rename(font)
    missing = sorted(c for c in chars if ord(c) not in font.getBestCmap())
    out.parent.mkdir(parents=True, exist_ok=True)
    subset.save_font(font, str(out), options)
    if missing:
        print(f"not in the source font: {''.join(missing)}", file=sys.stderr)
    print(f"{out.relative_to(ROOT)}: {len(font.getBestCmap())} characters, "
          f"{out.stat().st_size / 1e6:.2f} MB")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", type=Path, help="NotoSansCJKsc-Regular.otf (or Source Han Sans SC)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    return build(args.source, args.out)


if __name__ == "__main__":
    sys.exit(main())
