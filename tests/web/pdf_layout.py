"""Text boxes of a PDF (pdfminer.six) and the pairs of them that overlap on the page."""

from __future__ import annotations

import io
from dataclasses import dataclass

from pdfminer.high_level import extract_pages
from pdfminer.layout import LAParams, LTTextContainer, LTTextLine


@dataclass(frozen=True)
class Box:
    page: int
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    def intersects(self, other: Box, tolerance: float = 0.5) -> bool:
        """True when the two boxes share area (more than `tolerance` points each way)."""
        return (
            self.page == other.page
            and min(self.x1, other.x1) - max(self.x0, other.x0) > tolerance
            and min(self.y1, other.y1) - max(self.y0, other.y0) > tolerance
        )


def text_boxes(pdf: bytes) -> list[Box]:
    """Every text line of every page, as printed (one box per line of characters)."""
    # char_margin small: a label and its value on one baseline stay two boxes.
    params = LAParams(char_margin=0.5, line_margin=0.1, word_margin=0.1)
    boxes: list[Box] = []
    for number, page in enumerate(extract_pages(io.BytesIO(pdf), laparams=params), start=1):
        for element in page:
            if not isinstance(element, LTTextContainer):
                continue
            for line in element:
                if isinstance(line, LTTextLine) and line.get_text().strip():
                    boxes.append(Box(number, line.get_text().strip(), *line.bbox))
    return boxes


def overlaps(pdf: bytes) -> list[tuple[Box, Box]]:
    boxes = text_boxes(pdf)
    return [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :] if a.intersects(b)]
