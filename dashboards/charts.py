"""Charts and the overview's compact evidence bar, one colour per direction everywhere."""
from __future__ import annotations

import html
import math

import altair as alt
import pandas as pd

# direction -> (label, colour). Green for, greys for nothing found, red against: colour-blind
# readers still get the order and the labels.
DIRECTION_STYLE = {
    "supports": ("supports", "#2e7d32"),
    "mixed": ("mixed", "#f9a825"),
    "no_effect": ("no effect", "#78909c"),
    "contradicts": ("contradicts", "#c62828"),
    "unclear": ("unclear", "#cfd8dc"),
    "untagged": ("not tagged", "#eceff1"),
}


STANCE_COLOUR = {"supported": "green", "not supported": "red", "conflicting": "orange",
                 "mixed results": "orange", "no clear direction": "gray", "no human studies": "gray"}


def stance_badge(stance: str) -> str:
    """A claim's stance as a coloured Streamlit markdown badge."""
    return f":{STANCE_COLOUR.get(stance, 'gray')}-badge[{stance}]"


def direction_label(direction: str) -> str:
    return DIRECTION_STYLE.get(direction, (direction, None))[0]


def _colour_scale() -> alt.Scale:
    labels = [label for label, _ in DIRECTION_STYLE.values()]
    colours = [colour for _, colour in DIRECTION_STYLE.values()]
    return alt.Scale(domain=labels, range=colours)


def _with_labels(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["direction_label"] = out["direction"].map(direction_label)
    out["direction_order"] = out["direction"].map({d: i for i, d in enumerate(DIRECTION_STYLE)})
    return out


def design_direction(df: pd.DataFrame) -> alt.Chart:
    """Records by design (best evidence on top) and direction."""
    df = _with_labels(df)
    order = df.sort_values(["design_rank", "design_label"])["design_label"].drop_duplicates().tolist()
    return alt.Chart(df).mark_bar().encode(
        x=alt.X("sum(n):Q", title="records"),
        y=alt.Y("design_label:N", sort=order, title=None,
                axis=alt.Axis(labelLimit=220, labelOverlap=False)),
        color=alt.Color("direction_label:N", scale=_colour_scale(), title="direction"),
        order=alt.Order("direction_order:Q"),
        tooltip=[alt.Tooltip("design_label:N", title="design"),
                 alt.Tooltip("direction_label:N", title="direction"),
                 alt.Tooltip("sum(n):Q", title="records")],
    ).properties(height=max(190, 60 + 26 * len(order)))  # the legend needs 190 px in all


def timeline(df: pd.DataFrame) -> alt.Chart:
    """Records per publication year, stacked by direction."""
    df = _with_labels(df)
    return alt.Chart(df).mark_bar().encode(
        x=alt.X("pub_year:O", title="publication year"),
        y=alt.Y("sum(n):Q", title="records"),
        color=alt.Color("direction_label:N", scale=_colour_scale(), title="direction"),
        order=alt.Order("direction_order:Q"),
        tooltip=[alt.Tooltip("pub_year:O", title="year"),
                 alt.Tooltip("direction_label:N", title="direction"),
                 alt.Tooltip("sum(n):Q", title="records")],
    ).properties(height=220)


def year_histogram(df: pd.DataFrame) -> alt.Chart:
    return alt.Chart(df).mark_bar(color="#546e7a").encode(
        x=alt.X("year:O", title=None), y=alt.Y("n:Q", title="records"),
        tooltip=[alt.Tooltip("year:O"), alt.Tooltip("n:Q", title="records")],
    ).properties(height=140)


def evidence_bar(segments: list[tuple[str, str, int]], width_px: int = 240) -> str:
    """A compact HTML bar of one claim's human studies: supporting, no-effect and
    contradicting segments, each split by design (best design first, the tooltip names it).

    ``segments`` are (direction, design label, count) in design order. The bar's length grows
    with the logarithm of the count, so a claim with 3 studies and one with 3,000 both read."""
    total = sum(n for _, _, n in segments)
    if total == 0:
        return ('<div style="font-size:0.8em;color:#78909c">no supporting, no-effect or '
                'contradicting human studies</div>')
    length = min(1.0, 0.25 + 0.25 * math.log10(total))
    parts, counts = [], {}
    for direction in ("supports", "no_effect", "contradicts"):
        label, colour = DIRECTION_STYLE[direction]
        mine = [(design, n) for d, design, n in segments if d == direction]
        counts[direction] = sum(n for _, n in mine)
        for i, (design, n) in enumerate(mine):
            tip = html.escape(f"{n:,} {design} — {label}", quote=True)
            border = "border-left:1px solid #fff;" if i else ""
            parts.append(f'<span title="{tip}" style="display:inline-block;height:14px;'
                         f'width:{100.0 * n / total:.2f}%;background:{colour};{border}"></span>')
    caption = (f"{counts['supports']:,} supporting · {counts['no_effect']:,} no effect · "
               f"{counts['contradicts']:,} contradicting")
    return (f'<div style="width:{width_px * length:.0f}px;white-space:nowrap;line-height:0;'
            f'border-radius:2px;overflow:hidden">{"".join(parts)}</div>'
            f'<div style="font-size:0.8em;color:#546e7a">{caption}</div>')
