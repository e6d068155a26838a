# Generates media/src/test/resources/pillow/ with Debian's python3-pil (Pillow 9.4.0). Not part of the build.
import json, random, io, hashlib
from PIL import Image, features
random.seed(1234)
W, H = 61, 47
src = Image.new("RGB", (W, H))
px = src.load()
for y in range(H):
    for x in range(W):
        if (x // 5 + y // 5) % 2 == 0 and x > 40:
            px[x, y] = (255, 255, 255) if (x + y) % 2 else (0, 0, 0)   # checkerboard: ringing and clipping
        else:
            px[x, y] = ((x * 4) % 256, (y * 5) % 256, random.randrange(256))
src.save("source_rgb.png")
grey = Image.new("L", (37, 29))
g = grey.load()
for y in range(29):
    for x in range(37):
        g[x, y] = random.randrange(256) if x < 18 else (255 if (x + y) % 3 == 0 else 0)
grey.save("source_l.png")
filters = {"NEAREST": Image.NEAREST, "BOX": Image.BOX, "BILINEAR": Image.BILINEAR,
           "HAMMING": Image.HAMMING, "BICUBIC": Image.BICUBIC, "LANCZOS": Image.LANCZOS}
cases = []
def add(source, im, size, fname, box=None):
    out = im.resize(size, filters[fname], box=box)
    name = f"{source[:-4]}_{fname.lower()}_{size[0]}x{size[1]}" + ("_box" if box else "") + ".png"
    out.save(name)
    cases.append({"source": source, "size_wh": list(size), "filter": fname, "box": list(box) if box else None,
                  "expected": name, "mode": out.mode})
for fname in filters:
    for size in [(29, 20), (128, 97), (100, 30), (7, 5), (61, 90)]:
        add("source_rgb.png", src, size, fname)
    add("source_rgb.png", src, (40, 33), fname, box=(3.5, 2.25, 50.0, 41.75))
    add("source_l.png", grey, (15, 40), fname)
json.dump({"generator": "Pillow " + Image.__version__ + " (Debian python3-pil), Image.resize(size, filter, box)",
           "cases": cases}, open("resize_cases.json", "w"), indent=1)

# Decoding: files in several modes and Pillow's convert("RGB") of each, stored as lossless RGB PNG.
base = src.copy()
dec = []
def enc(name, im, **kw):
    im.save(name, **kw)
    ref = Image.open(name).convert("RGB")
    exp = name.replace(".", "_") + "_rgb.png"
    ref.save(exp)
    dec.append({"file": name, "pil_mode": Image.open(name).mode, "expected_rgb": exp})
rgba = base.convert("RGBA"); a = rgba.load()
for y in range(H):
    for x in range(W):
        r, g2, b, _ = a[x, y]; a[x, y] = (r, g2, b, (x * 7 + y * 3) % 256)
enc("dec_rgba.png", rgba)
enc("dec_l.png", base.convert("L"))
la = base.convert("LA"); enc("dec_la.png", la)
enc("dec_p.png", base.convert("P", palette=Image.ADAPTIVE, colors=37))
pt = base.convert("P", palette=Image.ADAPTIVE, colors=16); pt.info["transparency"] = 3
enc("dec_p_trns.png", pt, transparency=3)
enc("dec_1bit.png", base.convert("1"))
i16 = Image.new("I;16", (W, H)); q = i16.load()
for y in range(H):
    for x in range(W):
        q[x, y] = (x * 1000 + y * 37) % 65536 if y % 2 else (x * 9 + y) % 300
enc("dec_i16.png", i16)
enc("dec_rgb.bmp", base)
enc("dec_p.bmp", base.convert("P", palette=Image.ADAPTIVE, colors=200))
enc("dec_p.gif", base.convert("P", palette=Image.ADAPTIVE, colors=64))
enc("dec_q95.jpg", base, quality=95)
enc("dec_q75_444.jpg", base, quality=75, subsampling=0)
enc("dec_l.jpg", base.convert("L"), quality=90)
if features.check("webp"):
    enc("dec_lossless.webp", base, lossless=True)
    enc("dec_lossy.webp", base, quality=80)
json.dump({"generator": "Pillow " + Image.__version__ + " (Debian python3-pil): Image.open(file).convert('RGB')",
           "cases": dec}, open("decode_cases.json", "w"), indent=1)
# Appended to make_pillow_refs.py: GIFs whose first frame is smaller than the logical screen and offset.
import json
from PIL import Image
def offset_gif(name, transparency):
    small = Image.new("P", (8, 6))
    small.putpalette([v for i in range(16) for v in ((i * 16) % 256, (i * 40) % 256, 255 - i * 10)])
    small.putdata([(x * 3 + y) % 16 for y in range(6) for x in range(8)])
    kw = {"transparency": transparency} if transparency is not None else {}
    small.save(name, **kw)
    b = bytearray(open(name, "rb").read())
    assert b[:6] == b"GIF89a" or b[:6] == b"GIF87a"
    b[6:10] = (20).to_bytes(2, "little") + (16).to_bytes(2, "little")   # logical screen 20x16
    d = b.index(b"\x2c", 13 + 3 * (2 << (b[10] & 7)))                    # image descriptor after the palette
    b[d + 1:d + 5] = (5).to_bytes(2, "little") + (4).to_bytes(2, "little")  # frame at (5, 4)
    open(name, "wb").write(bytes(b))
    ref = Image.open(name)
    mode, size = ref.mode, ref.size
    exp = name.replace(".", "_") + "_rgb.png"
    ref.convert("RGB").save(exp)
    return {"file": name, "pil_mode": mode, "expected_rgb": exp}
cases = json.load(open("decode_cases.json"))
cases["cases"] = [c for c in cases["cases"] if not c["file"].startswith("dec_offset")]
cases["cases"].append(offset_gif("dec_offset.gif", None))
cases["cases"].append(offset_gif("dec_offset_trns.gif", 7))
json.dump(cases, open("decode_cases.json", "w"), indent=1)
