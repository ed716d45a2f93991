"""Studio-style product pictures drawn with Pillow alone: no downloads, no fonts from outside.

``render_product_image(shape=..., hex_colour=...)`` draws one item (its silhouette chosen by a
shape key) in its leather colour on a warm bone backdrop with a soft floor shadow: shaded
panels with a lighter painted edge, dashed saddle stitching, brass hardware on belts and bags.
Shapes are laid out on a 1200-unit square and drawn at twice the output size, then reduced,
which smooths every edge. Pure drawing: nothing here touches the database or storage.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

Point = tuple[float, float]
RGB = tuple[int, int, int]

SIZE = 1200  # output pixels
SUPERSAMPLE = 2
PNG_COMPRESS_LEVEL = 3  # about a third faster than the default 6, files a little larger

BRASS = ((184, 147, 63), (235, 208, 128), (118, 90, 32))  # base, highlight, shade
STEEL = ((160, 163, 167), (222, 224, 226), (102, 104, 108))
CARD_COLOURS = ((236, 231, 221), (203, 214, 205), (214, 206, 226))
LINEN_THREAD = "#E8DCC0"  # Evergreen: natural waxed linen
INK = (30, 27, 24)

SHAPES: dict[str, Callable[[Studio], None]] = {}


def thread_for_line(line: str) -> str | None:
    """Evergreen is sewn with natural linen thread; other lines in a tone of the leather."""
    return LINEN_THREAD if line == "Evergreen" else None


def render_product_image(
    *, shape: str, hex_colour: str, thread: str | None = None, size: int = SIZE
) -> Image.Image:
    """The product picture as an RGB image of ``size`` x ``size`` pixels."""
    try:
        draw_shape = SHAPES[shape]
    except KeyError:
        raise ValueError(f"unknown shape {shape!r}; known: {', '.join(sorted(SHAPES))}") from None
    studio = Studio(size=size, leather=_hex(hex_colour), thread=_hex(thread) if thread else None)
    draw_shape(studio)
    return studio.finish()


# --- colour and geometry helpers ---------------------------------------------------------


def _hex(value: str) -> RGB:
    value = value.lstrip("#")
    if len(value) != 6:
        raise ValueError(f"not a hex colour: #{value}")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def _mix(a: Sequence[int], b: Sequence[int], t: float) -> RGB:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def _luminance(rgb: Sequence[int]) -> float:
    r, g, b = (c / 255 for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _unit(x: float, y: float) -> Point:
    length = math.hypot(x, y) or 1.0
    return (x / length, y / length)


def _rounded(points: Sequence[Point], radius: float | Sequence[float], steps: int = 10) -> list:
    """A convex polygon with its corners rounded (per-corner radii allowed), as a point path."""
    n = len(points)
    radii = list(radius) if isinstance(radius, Sequence) else [radius] * n
    path: list[Point] = []
    for i, (px, py) in enumerate(points):
        ax, ay = points[i - 1]
        bx, by = points[(i + 1) % n]
        r = radii[i]
        if r <= 0:
            path.append((px, py))
            continue
        v1 = _unit(ax - px, ay - py)
        v2 = _unit(bx - px, by - py)
        cos_theta = max(-0.9999, min(0.9999, v1[0] * v2[0] + v1[1] * v2[1]))
        theta = math.acos(cos_theta)
        tangent = r / math.tan(theta / 2)
        limit = 0.5 * min(math.hypot(ax - px, ay - py), math.hypot(bx - px, by - py))
        if tangent > limit:
            tangent = limit
            r = tangent * math.tan(theta / 2)
        bis = _unit(v1[0] + v2[0], v1[1] + v2[1])
        dist = r / math.sin(theta / 2)
        cx, cy = px + bis[0] * dist, py + bis[1] * dist
        t1 = (px + v1[0] * tangent, py + v1[1] * tangent)
        t2 = (px + v2[0] * tangent, py + v2[1] * tangent)
        a1 = math.atan2(t1[1] - cy, t1[0] - cx)
        a2 = math.atan2(t2[1] - cy, t2[0] - cx)
        sweep = (a2 - a1 + math.pi) % (2 * math.pi) - math.pi
        for k in range(steps + 1):
            angle = a1 + sweep * k / steps
            path.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    return path


def _inset(points: Sequence[Point], d: float) -> list[Point]:
    """A convex polygon moved inwards by ``d`` along every edge."""
    n = len(points)
    area = sum(
        points[i][0] * points[(i + 1) % n][1] - points[(i + 1) % n][0] * points[i][1]
        for i in range(n)
    )
    sign = 1 if area > 0 else -1
    lines = []
    for i in range(n):
        (x1, y1), (x2, y2) = points[i], points[(i + 1) % n]
        ex, ey = _unit(x2 - x1, y2 - y1)
        nx, ny = -ey * sign, ex * sign
        lines.append(((x1 + nx * d, y1 + ny * d), (ex, ey)))
    result = []
    for i in range(n):
        (p, r), (q, s) = lines[i - 1], lines[i]
        cross = r[0] * s[1] - r[1] * s[0]
        if abs(cross) < 1e-9:
            result.append(q)
            continue
        t = ((q[0] - p[0]) * s[1] - (q[1] - p[1]) * s[0]) / cross
        result.append((p[0] + r[0] * t, p[1] + r[1] * t))
    return result


def _offset(points: Sequence[Point], d: float) -> list[Point]:
    """An open polyline moved sideways by ``d`` (positive: to the left of its direction)."""
    out = []
    n = len(points)
    for i in range(n):
        x0, y0 = points[max(i - 1, 0)]
        x1, y1 = points[min(i + 1, n - 1)]
        ex, ey = _unit(x1 - x0, y1 - y0)
        out.append((points[i][0] - ey * d, points[i][1] + ex * d))
    return out


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, steps: int = 40):
    """Points on an ellipse from ``start`` to ``end`` degrees (0 = right, 90 = down)."""
    return [
        (
            cx + rx * math.cos(math.radians(start + (end - start) * k / steps)),
            cy + ry * math.sin(math.radians(start + (end - start) * k / steps)),
        )
        for k in range(steps + 1)
    ]


def _rect(x0: float, y0: float, x1: float, y1: float) -> list[Point]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def _dash_runs(points: Sequence[Point], dash: float, gap: float) -> list[list[Point]]:
    """Split a polyline into dashes of ``dash`` length separated by ``gap``."""
    runs: list[list[Point]] = []
    on, left = True, dash
    current: list[Point] = [points[0]]
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        seg = math.hypot(x1 - x0, y1 - y0)
        pos = 0.0
        while seg - pos > left:
            pos += left
            t = pos / seg
            point = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t)
            if on:
                current.append(point)
                runs.append(current)
            current = [point]
            on = not on
            left = dash if on else gap
        left -= seg - pos
        if on:
            current.append((x1, y1))
        else:
            current = [(x1, y1)]
    if on and len(current) > 1:
        runs.append(current)
    return runs


# --- cached studio pieces ----------------------------------------------------------------


@lru_cache(maxsize=4)
def _backdrop(width: int) -> Image.Image:
    """Warm grey wall sweeping into a bone floor, lit from above, with a soft vignette."""
    stops = [(0.0, (238, 233, 225)), (0.55, (230, 224, 214)), (0.72, (224, 217, 206)),
             (1.0, (212, 204, 192))]  # fmt: skip

    def channel(c: int) -> list[int]:
        lut = []
        for v in range(256):
            t = v / 255
            for (t0, c0), (t1, c1) in zip(stops, stops[1:], strict=False):
                if t <= t1:
                    f = (t - t0) / (t1 - t0)
                    f = f * f * (3 - 2 * f)
                    lut.append(round(c0[c] + (c1[c] - c0[c]) * f))
                    break
        return lut

    ramp = Image.linear_gradient("L").resize((width, width), Image.Resampling.BILINEAR)
    backdrop = Image.merge("RGB", [ramp.point(channel(c)) for c in range(3)])
    vignette = Image.radial_gradient("L").resize((width, width), Image.Resampling.BILINEAR)
    vignette = vignette.point(lambda v: max(0, min(255, (v - 110) * 0.55)))
    darker = ImageChops.multiply(backdrop, Image.new("RGB", (width, width), (226, 222, 216)))
    return Image.composite(darker, backdrop, vignette)


@lru_cache(maxsize=4)
def _grain(width: int) -> Image.Image:
    """A faint mottled texture (mostly white) multiplied into leather panels."""
    small = Image.effect_noise((width // 6, width // 6), 38).filter(ImageFilter.GaussianBlur(0.8))
    grain = small.resize((width, width), Image.Resampling.BICUBIC)
    return grain.point(lambda v: 255 - min(22, abs(v - 128) // 3)).convert("RGB")


@lru_cache(maxsize=1)
def _light() -> Image.Image:
    """Diagonal light: 255 at the top left falling to 0 at the bottom right."""
    ramp = Image.linear_gradient("L").rotate(45, resample=Image.Resampling.BILINEAR, expand=True)
    w, h = ramp.size
    inner = ramp.crop((w // 4, h // 4, w - w // 4, h - h // 4))
    return inner.point(lambda v: 255 - v)


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


# --- the studio ------------------------------------------------------------------------


class Studio:
    """A drawing surface in design units (0..1200), with the leather's palette."""

    def __init__(self, *, size: int, leather: RGB, thread: RGB | None) -> None:
        self.size = size
        self.px = size * SUPERSAMPLE
        self.k = self.px / 1200
        self.layer = Image.new("RGBA", (self.px, self.px), (0, 0, 0, 0))
        self.draw = ImageDraw.Draw(self.layer, "RGBA")
        self.leather = leather
        light = _luminance(leather) > 0.42
        self.edge = _mix(leather, (255, 246, 232), 0.30 if light else 0.24)
        self.high = _mix(leather, (255, 250, 240), 0.10)
        self.low = _mix(leather, (0, 0, 0), 0.22)
        self.dark = _mix(leather, (0, 0, 0), 0.45)
        if thread is None:  # tone on tone
            thread = (
                _mix(leather, (0, 0, 0), 0.45) if light else _mix(leather, (255, 240, 220), 0.4)
            )
        self.thread = thread

    # coordinates
    def _p(self, points: Sequence[Point]) -> list[Point]:
        k = self.k
        return [(x * k, y * k) for x, y in points]

    def _w(self, width: float) -> int:
        return max(1, round(width * self.k))

    # leather
    def panel(
        self,
        points: Sequence[Point],
        *,
        radius: float | Sequence[float] = 0,
        tone: float = 0.0,
        edge: bool = True,
        stitch: float | None = 14,
        stitch_path: Sequence[Point] | None = None,
    ) -> list[Point]:
        """A flat leather piece: shaded fill, painted edge, stitching inset by ``stitch``.

        ``tone`` darkens (>0) or lightens (<0) the piece; ``stitch_path`` stitches an open
        line instead of the whole outline. Returns the outline in design units.
        """
        outline = _rounded(points, radius)
        self._fill(outline, tone=tone)
        if edge:
            self.draw.line(
                self._p(outline + outline[:1]), fill=self._tone(self.edge, tone),
                width=self._w(4), joint="curve",
            )  # fmt: skip
        if stitch_path is not None:
            self.stitches(stitch_path)
        elif stitch:
            radii = list(radius) if isinstance(radius, Sequence) else [radius] * len(points)
            inner = _rounded(_inset(points, stitch), [max(r - stitch, 3) for r in radii])
            self.stitches(inner + inner[:1])
        return outline

    def strap(
        self,
        path: Sequence[Point],
        *,
        width: float,
        tone: float = 0.0,
        stitch: bool = True,
    ) -> None:
        """A leather strap along an open path: fill, two painted edges, stitching down each side."""
        mask_outline = _offset(path, width / 2) + list(reversed(_offset(path, -width / 2)))
        self._fill(mask_outline, tone=tone)
        for side in (1, -1):
            self.draw.line(
                self._p(_offset(path, side * (width / 2 - 1.5))),
                fill=self._tone(self.edge, tone), width=self._w(3.5), joint="curve",
            )  # fmt: skip
            if stitch and width >= 26:
                self.stitches(_offset(path, side * (width / 2 - min(9, width / 4))))
        if stitch and width < 26:
            self.stitches(path)

    def stitches(self, path: Sequence[Point], *, dash: float = 13, gap: float = 8) -> None:
        shadow = _mix(self.leather, (0, 0, 0), 0.5)
        width = self._w(3)
        for run in _dash_runs(path, dash, gap):
            self.draw.line(self._p([(x + 0.8, y + 1.2) for x, y in run]), fill=shadow, width=width)
            self.draw.line(self._p(run), fill=self.thread, width=width)

    def line(self, path: Sequence[Point], *, colour: RGB, width: float) -> None:
        self.draw.line(self._p(path), fill=colour, width=self._w(width), joint="curve")

    def crease(self, path: Sequence[Point], *, width: float = 5) -> None:
        """A fold or the shadow under an overlapping piece, with a highlight just below."""
        self.line([(x, y + width * 0.6) for x, y in path], colour=self.edge, width=width * 0.5)
        self.line(path, colour=self.dark, width=width)

    def deboss(self, text: str, *, centre: Point, size: int) -> None:
        font = _font(self._w(size))
        x, y = centre[0] * self.k, centre[1] * self.k
        self.draw.text((x, y + self._w(1.5)), text, font=font, fill=self.edge, anchor="mm")
        self.draw.text((x, y), text, font=font, fill=self.low, anchor="mm")

    # other materials
    def flat(self, points: Sequence[Point], *, colour: RGB, radius: float = 0) -> None:
        self.draw.polygon(self._p(_rounded(points, radius)), fill=colour)

    def metal(
        self,
        kind: str,
        points: Sequence[Point],
        *,
        radius: float = 4,
        width: float | None = None,
    ) -> None:
        """Brass or steel: a filled plate, or an open frame when ``width`` is given."""
        base, highlight, shade = BRASS if kind == "brass" else STEEL
        outline = _rounded(points, radius)
        if width is None:
            self.draw.polygon(self._p(outline), fill=base)
            self.draw.line(self._p(outline + outline[:1]), fill=shade, width=self._w(2.5))
            top = [(x, y + 3) for x, y in outline[: len(outline) // 2]]
            self.draw.line(self._p(top), fill=highlight, width=self._w(2.5))
        else:
            closed = outline + outline[:1]
            self.draw.line(self._p([(x + 2, y + 3) for x, y in closed]), fill=shade,
                           width=self._w(width), joint="curve")  # fmt: skip
            self.draw.line(self._p(closed), fill=base, width=self._w(width), joint="curve")
            self.draw.line(self._p(closed), fill=highlight, width=self._w(width * 0.3),
                           joint="curve")  # fmt: skip

    def ring(self, kind: str, centre: Point, radius: float, *, width: float = 10,
             start: float = 0, end: float = 360) -> None:  # fmt: skip
        base, highlight, shade = BRASS if kind == "brass" else STEEL
        cx, cy = centre
        path = _arc(cx, cy, radius, radius, start, end, steps=60)
        self.line([(x + 2, y + 3) for x, y in path], colour=shade, width=width)
        self.line(path, colour=base, width=width)
        self.line(_arc(cx, cy, radius, radius, start + 200, start + 280, steps=20)
                  if end - start >= 360 else path, colour=highlight, width=width * 0.3)  # fmt: skip

    def rivet(self, centre: Point, *, radius: float = 9, kind: str = "brass") -> None:
        base, highlight, shade = BRASS if kind == "brass" else STEEL
        x, y = centre
        k = self.k
        self.draw.ellipse(self._box(x + 1.5, y + 2, radius), fill=self.dark)
        self.draw.ellipse(self._box(x, y, radius), fill=base, outline=shade, width=max(1, round(k)))
        self.draw.ellipse(self._box(x - radius * 0.3, y - radius * 0.3, radius * 0.35),
                          fill=highlight)  # fmt: skip

    def hole(self, centre: Point, *, radius: float = 7) -> None:
        x, y = centre
        self.draw.ellipse(self._box(x, y + 1.5, radius), fill=self.edge)
        self.draw.ellipse(self._box(x, y, radius), fill=_mix(self.leather, (0, 0, 0), 0.7))

    def _box(self, x: float, y: float, r: float) -> list[float]:
        k = self.k
        return [(x - r) * k, (y - r) * k, (x + r) * k, (y + r) * k]

    def _tone(self, colour: RGB, tone: float) -> RGB:
        if tone > 0:
            return _mix(colour, (0, 0, 0), tone)
        if tone < 0:
            return _mix(colour, (255, 250, 240), -tone)
        return colour

    def _fill(self, outline: Sequence[Point], *, tone: float) -> None:
        pts = self._p(outline)
        x0 = max(0, math.floor(min(x for x, _ in pts)))
        y0 = max(0, math.floor(min(y for _, y in pts)))
        x1 = min(self.px, math.ceil(max(x for x, _ in pts)) + 1)
        y1 = min(self.px, math.ceil(max(y for _, y in pts)) + 1)
        w, h = x1 - x0, y1 - y0
        if w <= 0 or h <= 0:
            return
        mask = Image.new("L", (w, h), 0)
        ImageDraw.Draw(mask).polygon([(x - x0, y - y0) for x, y in pts], fill=255)
        light = _light().resize((w, h), Image.Resampling.BILINEAR)
        patch = Image.composite(
            Image.new("RGB", (w, h), self._tone(self.high, tone)),
            Image.new("RGB", (w, h), self._tone(self.low, tone)),
            light,
        )
        patch = ImageChops.multiply(patch, _grain(self.px).crop((x0, y0, x1, y1)))
        self.layer.paste(patch, (x0, y0), mask)

    # finishing
    def finish(self) -> Image.Image:
        """Reduce the item to the output size (premultiplied, so edges stay clean), lay its
        soft floor shadow on the backdrop, and place it."""
        item = self.layer
        if SUPERSAMPLE > 1:
            item = item.convert("RGBa").reduce(SUPERSAMPLE).convert("RGBA")
        alpha = item.getchannel("A")
        size = alpha.size
        # a wide, soft shadow and a tighter contact shadow, blurred small, combined, scaled once
        wide = alpha.reduce(8)
        wide = _shifted(wide, 2).filter(ImageFilter.GaussianBlur(3.4)).point(_scale(0.55))
        near = alpha.reduce(2)
        near = _shifted(near, 5).filter(ImageFilter.GaussianBlur(8)).point(_scale(0.6))
        wide = wide.resize(near.size, Image.Resampling.BILINEAR)
        shadow = ImageChops.screen(wide, near).resize(size, Image.Resampling.BILINEAR)
        canvas = Image.composite(
            Image.new("RGB", size, (150, 138, 124)), _backdrop(self.size), shadow
        )
        canvas.paste(item, (0, 0), alpha)
        return canvas


def _shifted(mask: Image.Image, dy: int) -> Image.Image:
    moved = Image.new("L", mask.size, 0)
    moved.paste(mask, (0, dy))
    return moved


@lru_cache(maxsize=8)
def _scale_lut(factor: float) -> tuple[int, ...]:
    return tuple(round(v * factor) for v in range(256))


def _scale(factor: float) -> list[int]:
    return list(_scale_lut(factor))


def shape(name: str) -> Callable[[Callable[[Studio], None]], Callable[[Studio], None]]:
    def register(fn: Callable[[Studio], None]) -> Callable[[Studio], None]:
        SHAPES[name] = fn
        return fn

    return register


# --- shapes ----------------------------------------------------------------------------


def _card(s: Studio, x0: float, y0: float, x1: float, y1: float, colour: RGB) -> None:
    s.flat(_rect(x0 + 2, y0 + 3, x1 + 2, y1 + 3), colour=_mix(colour, (0, 0, 0), 0.25), radius=10)
    s.flat(_rect(x0, y0, x1, y1), colour=colour, radius=10)
    s.line([(x0 + 14, y0 + 22), (x0 + 70, y0 + 22)], colour=_mix(colour, INK, 0.25), width=6)


def _open_wallet(s: Studio, *, x0: float, x1: float, y0: float, y1: float, slots: int) -> None:
    mid = (x0 + x1) / 2
    s.panel(_rect(x0, y0, x1, y1), radius=28, stitch=None)
    for left, right in ((x0 + 26, mid - 22), (mid + 22, x1 - 26)):
        top = y0 + 46
        step = min(50, (y1 - y0 - 170) / max(slots - 1, 1))
        _card(s, left + 40, top - 34, left + 250, top + 60, CARD_COLOURS[int(left) % 3])
        for i in range(slots):
            y = top + i * step
            s.crease([(left + 4, y - 2), (right - 4, y - 2)], width=4)
            s.panel(_rect(left, y, right, y1 - 24), radius=[6, 6, 14, 14], tone=-0.06 + i * 0.02,
                    stitch=None)  # fmt: skip
        s.stitches([(left + 14, top + 6), (left + 14, y1 - 38), (right - 14, y1 - 38),
                    (right - 14, top + 6)])  # fmt: skip
    s.stitches(_rounded(_inset(_rect(x0, y0, x1, y1), 12), 16)[:-1])
    s.line([(mid, y0 + 6), (mid, y1 - 6)], colour=s.dark, width=10)
    s.line([(mid + 7, y0 + 10), (mid + 7, y1 - 10)], colour=s.edge, width=3)


@shape("wallet")
def _wallet(s: Studio) -> None:
    _open_wallet(s, x0=190, x1=1010, y0=380, y1=800, slots=3)


@shape("longwallet")
def _longwallet(s: Studio) -> None:
    _open_wallet(s, x0=120, x1=1080, y0=330, y1=860, slots=4)


@shape("cardsleeve")
def _cardsleeve(s: Studio) -> None:
    x0, x1, y0, y1 = 330, 870, 380, 790
    s.panel(_rect(x0, y0, x1, y1), radius=24, tone=0.06)
    _card(s, x0 + 60, y0 + 40, x1 - 90, y1 - 60, CARD_COLOURS[0])
    _card(s, x0 + 110, y0 + 70, x1 - 40, y1 - 40, CARD_COLOURS[1])
    front_top = y0 + 130
    s.crease([(x0 + 6, front_top - 3), (x1 - 6, front_top - 3)], width=6)
    s.panel(_rect(x0, front_top, x1, y1), radius=[6, 6, 24, 24], stitch=None,
            stitch_path=[(x0 + 14, front_top + 16), (x0 + 14, y1 - 14), (x1 - 14, y1 - 14),
                         (x1 - 14, front_top + 16)])  # fmt: skip
    cx = (x0 + x1) / 2
    notch = _arc(cx, front_top, 80, 62, 0, 180, steps=40)
    s.flat(notch, colour=_mix(CARD_COLOURS[1], (0, 0, 0), 0.06))
    s.line(notch, colour=s.edge, width=4)


@shape("cardholder")
def _cardholder(s: Studio) -> None:
    x0, x1, y0, y1 = 350, 850, 410, 770
    s.panel(_rect(x0 + 10, y0 + 12, x1 + 10, y1 + 12), radius=[46, 20, 20, 46], tone=0.18,
            stitch=None)  # fmt: skip
    s.panel(_rect(x0, y0, x1, y1), radius=[46, 20, 20, 46], stitch=None,
            stitch_path=[(x0 + 50, y0 + 16), (x1 - 16, y0 + 16), (x1 - 16, y1 - 16),
                         (x0 + 50, y1 - 16)])  # fmt: skip
    s.line([(x0 + 30, y0 + 10), (x0 + 30, y1 - 10)], colour=s.low, width=12)
    s.line([(x0 + 38, y0 + 14), (x0 + 38, y1 - 14)], colour=s.edge, width=3)
    s.rivet((x1 - 70, (y0 + y1) / 2), radius=20, kind="steel")


@shape("coinpurse")
def _coinpurse(s: Studio) -> None:
    x0, x1, y0, y1 = 370, 830, 400, 840
    s.panel(_rect(x0, y0, x1, y1), radius=[34, 34, 230, 230], stitch=18)
    flap = _rect(x0 - 5, y0 - 16, x1 + 5, y0 + 270)
    lower_edge = [(x, y + 7) for x, y in _rounded(flap, [34, 34, 180, 180]) if y > y0 + 70]
    s.crease(lower_edge, width=8)
    s.panel(flap, radius=[34, 34, 180, 180], tone=-0.05, stitch=18)
    s.rivet(((x0 + x1) / 2, y0 + 200), radius=26)


@shape("passport")
def _passport(s: Studio) -> None:
    x0, x1, y0, y1 = 390, 810, 300, 880
    s.panel(_rect(x0 + 8, y0 + 8, x1 + 8, y1 + 8), radius=22, tone=0.2, stitch=None)
    s.panel(_rect(x0, y0, x1, y1), radius=22, stitch=16)
    s.line([(x0 + 34, y0 + 8), (x0 + 34, y1 - 8)], colour=s.low, width=10)
    s.line([(x0 + 41, y0 + 10), (x0 + 41, y1 - 10)], colour=s.edge, width=2.5)
    cx = (x0 + x1) / 2 + 15
    for r in (62, 48):
        s.line(_arc(cx, 500, r, r, 0, 360, steps=60), colour=s.low, width=4)
    s.deboss("PASSPORT", centre=(cx, 640), size=40)
    s.deboss("MARLOW & VALE", centre=(cx, 820), size=20)


@shape("keyfob")
def _keyfob(s: Studio) -> None:
    # the key, hanging from the ring
    s.metal("steel", _rect(712, 470, 740, 760), radius=6)
    s.metal("steel", [(740, 690), (770, 690), (770, 712), (756, 712), (756, 730), (740, 730)],
            radius=2)  # fmt: skip
    s.ring("steel", (726, 430), 52, width=22)
    s.draw.ellipse(s._box(726, 420, 14), fill=(0, 0, 0, 0))
    # the fob: a folded loop of leather
    s.panel(_rect(450, 420, 570, 900), radius=[56, 56, 40, 40], tone=0.15, stitch=None)
    s.panel(_rect(440, 410, 560, 890), radius=[56, 56, 40, 40], stitch=14)
    s.rivet((500, 800), radius=15)
    s.draw.ellipse(s._box(500, 470, 22), fill=(0, 0, 0, 0))
    s.line(_arc(500, 470, 22, 22, 0, 360), colour=s.dark, width=4)
    s.ring("steel", (600, 420), 110, width=12, start=150, end=390)


@shape("belt")
def _belt(s: Studio) -> None:
    width = 104
    top_y, bottom_y, turn_x = 470, 760, 900
    radius = (bottom_y - top_y) / 2
    path = [(300, top_y), (turn_x, top_y)]
    path += _arc(turn_x, top_y + radius, radius, radius, -90, 90, steps=48)[1:]
    path += [(360, bottom_y)]
    # the tip of the lower strand goes under the strap's end, so no seam shows
    tip = [(380, bottom_y - width / 2), (270, bottom_y - width / 2), (210, bottom_y),
           (270, bottom_y + width / 2), (380, bottom_y + width / 2)]  # fmt: skip
    s.panel(tip, radius=[0, 20, 18, 20, 0], stitch=None)
    s.stitches([(372, bottom_y - width / 2 + 10), (268, bottom_y - width / 2 + 10),
                (225, bottom_y), (268, bottom_y + width / 2 - 10),
                (372, bottom_y + width / 2 - 10)])  # fmt: skip
    s.strap(path, width=width)
    for i in range(5):
        s.hole((310 + i * 44, bottom_y))
    # the buckle end: keeper and brass buckle
    s.panel(_rect(360, top_y - width / 2 - 8, 396, top_y + width / 2 + 8), radius=6, tone=0.12,
            stitch=None)  # fmt: skip
    s.panel(_rect(250, top_y - width / 2, 320, top_y + width / 2), radius=4, tone=0.08, stitch=None)
    s.metal("brass", _rect(180, top_y - width / 2 - 22, 290, top_y + width / 2 + 22), radius=18,
            width=18)  # fmt: skip
    s.metal("brass", _rect(232, top_y - 6, 330, top_y + 6), radius=5)


@shape("strap")
def _strap(s: Studio) -> None:
    cx = 600
    upper = [(cx - 74, 480), (cx + 74, 480), (cx + 62, 150), (cx - 62, 150)]
    s.panel(upper, radius=[0, 0, 14, 14], stitch=12)
    s.panel(_rect(cx - 80, 240, cx + 80, 282), radius=8, tone=0.12, stitch=None)
    s.metal("brass", _rect(cx - 84, 130, cx + 84, 196), radius=14, width=14)
    s.metal("brass", _rect(cx - 6, 160, cx + 6, 250), radius=4)
    lower = [(cx - 74, 720), (cx + 74, 720), (cx + 60, 1010), (cx, 1070), (cx - 60, 1010)]
    s.panel(lower, radius=[0, 0, 30, 40, 30], stitch=12)
    for i in range(5):
        s.hole((cx, 800 + i * 40), radius=7)
    # the watch between the strap ends
    s.metal("steel", _rect(cx - 96, 440, cx + 96, 760), radius=60)
    s.draw.ellipse(s._box(cx, 600, 150), fill=STEEL[2])
    s.draw.ellipse(s._box(cx, 598, 146), fill=STEEL[0])
    s.draw.ellipse(s._box(cx, 600, 126), fill=(243, 238, 228))
    for hour in range(12):
        a = math.radians(hour * 30)
        r0, r1 = (100, 118) if hour % 3 else (92, 118)
        s.line([(cx + r0 * math.sin(a), 600 - r0 * math.cos(a)),
                (cx + r1 * math.sin(a), 600 - r1 * math.cos(a))], colour=INK, width=5)  # fmt: skip
    s.line([(cx, 600), (cx + 52, 560)], colour=INK, width=8)
    s.line([(cx, 600), (cx - 20, 508)], colour=INK, width=6)
    s.rivet((cx, 600), radius=7, kind="steel")
    s.metal("steel", _rect(cx + 146, 585, cx + 166, 615), radius=4)


@shape("notebook")
def _notebook(s: Studio) -> None:
    x0, x1, y0, y1 = 360, 840, 290, 910
    paper = (240, 234, 220)
    s.flat(_rect(x0 + 20, y0 + 14, x1 + 16, y1 - 14), colour=_mix(paper, INK, 0.2), radius=6)
    s.flat(_rect(x0 + 20, y0 + 12, x1 + 12, y1 - 16), colour=paper, radius=6)
    for i in range(6):
        x = x1 + 1 + i * 2
        s.line([(x, y0 + 20), (x, y1 - 22)], colour=_mix(paper, INK, 0.12), width=0.8)
    s.panel(_rect(x0, y0, x1, y1), radius=[10, 22, 22, 10], stitch=16)
    s.line([(x0 + 40, y0 + 6), (x0 + 40, y1 - 6)], colour=s.low, width=8)
    # pen in its loop on the spine
    s.flat(_rect(x0 - 30, y0 + 90, x0 + 4, y0 + 520), colour=(38, 36, 40), radius=14)
    s.metal("brass", _rect(x0 - 14, y0 + 100, x0 - 6, y0 + 240), radius=3)
    s.panel(_rect(x0 - 40, y0 + 260, x0 + 12, y0 + 380), radius=8, tone=0.08, stitch=None)
    s.stitches([(x0 + 4, y0 + 272), (x0 + 4, y0 + 368)])
    s.deboss("M & V", centre=((x0 + x1) / 2 + 20, y1 - 90), size=34)


def _handle(s: Studio, x0: float, x1: float, base_y: float, height: float, *, tone: float,
            width: float = 34) -> None:  # fmt: skip
    cx, rx = (x0 + x1) / 2, (x1 - x0) / 2
    s.strap(_arc(cx, base_y, rx, height, 180, 360, steps=50), width=width, tone=tone)


@shape("tote")
def _tote(s: Studio) -> None:
    top, bottom = 470, 920
    _handle(s, 480, 800, top + 10, 260, tone=0.2)
    s.panel([(340, top - 24), (860, top - 24), (870, top + 20), (330, top + 20)], radius=6,
            tone=0.28, stitch=None)  # fmt: skip
    body = [(310, top), (890, top), (840, bottom), (360, bottom)]
    s.panel(body, radius=[8, 8, 30, 30], stitch=None,
            stitch_path=[(316, top + 22), (884, top + 22)])  # fmt: skip
    s.stitches([(330, top + 40), (370, bottom - 16)])
    s.stitches([(870, top + 40), (830, bottom - 16)])
    _handle(s, 420, 740, top + 10, 250, tone=0.0)
    for x in (420, 740):
        s.panel(_rect(x - 30, top - 4, x + 30, top + 96), radius=8, tone=-0.04, stitch=None)
        s.rivet((x, top + 26))
        s.rivet((x, top + 66))
    s.deboss("MARLOW & VALE", centre=(600, 720), size=30)


@shape("crossbody")
def _crossbody(s: Studio) -> None:
    x0, x1, y0, y1 = 370, 830, 500, 860
    s.strap(_arc(600, y0 + 10, 220, 420, 180, 360, steps=60), width=30, tone=0.04)
    for x in (x0 + 10, x1 - 10):
        s.ring("brass", (x, y0 - 10), 18, width=8, start=180, end=360)
    s.panel(_rect(x0, y0, x1, y1), radius=[24, 24, 70, 70], tone=0.08, stitch=14)
    flap = _rect(x0 - 4, y0 - 6, x1 + 4, y0 + 250)
    s.crease([(x, y + 6) for x, y in _rounded(flap, [24, 24, 110, 110]) if y > y0 + 120],
             width=8)  # fmt: skip
    s.panel(flap, radius=[24, 24, 110, 110], tone=-0.04, stitch=16)
    # buckled tab
    cx = (x0 + x1) / 2
    s.panel(_rect(cx - 30, y0 + 170, cx + 30, y1 - 40), radius=[6, 6, 28, 28], tone=0.06,
            stitch=9)  # fmt: skip
    s.metal("brass", _rect(cx - 48, y0 + 230, cx + 48, y0 + 290), radius=12, width=13)
    s.metal("brass", _rect(cx - 5, y0 + 236, cx + 5, y0 + 300), radius=3)


@shape("holdall")
def _holdall(s: Studio) -> None:
    x0, x1, y0, y1 = 160, 1040, 470, 870
    _handle(s, 470, 790, y0 + 24, 230, tone=0.2, width=38)
    s.panel(_rect(x0, y0, x1, y1), radius=[170, 170, 56, 56], stitch=None)
    for left in (True, False):
        ex0, ex1 = (x0 + 14, x0 + 118) if left else (x1 - 118, x1 - 14)
        s.panel(_rect(ex0, y0 + 110, ex1, y1 - 14),
                radius=[90 if left else 12, 12 if left else 90, 12 if left else 44,
                        44 if left else 12], tone=0.14, stitch=None)  # fmt: skip
    s.ring("brass", (x0 + 60, y0 + 150), 24, width=9, start=90, end=270)
    s.ring("brass", (x1 - 60, y0 + 150), 24, width=9, start=-90, end=90)
    s.panel(_rect(x0 + 40, y1 - 60, x1 - 40, y1), radius=[10, 10, 40, 40], tone=0.1, stitch=None,
            stitch_path=[(x0 + 60, y1 - 46), (x1 - 60, y1 - 46)])  # fmt: skip
    # zip along the top
    zip_path = _arc(600, y0 + 160, 320, 120, 200, 340, steps=60)
    s.line(zip_path, colour=s.dark, width=16)
    for ax, ay in zip_path[:-1]:
        s.line([(ax, ay - 4), (ax, ay + 4)], colour=BRASS[0], width=3)
    s.stitches(_offset(zip_path, -18))
    s.stitches(_offset(zip_path, 18))
    px, py = zip_path[40]
    s.metal("brass", _rect(px - 12, py - 6, px + 12, py + 30), radius=6)
    s.metal("brass", _rect(px - 8, py + 26, px + 8, py + 74), radius=6)
    _handle(s, 430, 770, y0 + 34, 210, tone=0.0, width=38)
    for x in (430, 770):
        s.panel(_rect(x - 34, y0 + 14, x + 34, y0 + 110), radius=10, tone=-0.04, stitch=9)
        s.rivet((x, y0 + 62))
    s.deboss("MARLOW & VALE", centre=(600, 700), size=28)


@shape("sleeve")
def _sleeve(s: Studio) -> None:
    x0, x1, y0, y1 = 210, 990, 360, 870
    s.panel(_rect(x0, y0, x1, y1), radius=30, stitch=16)
    flap = [(x0, y0), (x1, y0), (x1, y0 + 90), (640, y0 + 300), (560, y0 + 300), (x0, y0 + 90)]
    shadow = _rounded(flap, [30, 30, 16, 40, 40, 16])
    s.line([(x, y + 5) for x, y in shadow[len(shadow) // 3 :]], colour=s.dark, width=9)
    s.panel(flap, radius=[30, 30, 16, 40, 40, 16], tone=-0.05, stitch=16)
    s.rivet((600, y0 + 245), radius=20)
    s.deboss("MARLOW & VALE", centre=(600, y1 - 90), size=26)
