"""Review sentiment with VADER (Hutto & Gilbert, ICWSM 2014), a lexicon and rule-based model.

VADER needs no training and no GPU: it reads its lexicon once and then scores text with rules
(negation, boosters, "but", capitals, "!"). Reading the lexicon takes a noticeable moment and
some memory, so the analyzer is built on first use, once per process (DESIGN rule 4: resources
are made lazily or in the lifespan, never at import), and shared: scoring only reads it.

Scoring is pure CPU work that holds the GIL: async callers run it in a worker thread
(``anyio.to_thread.run_sync``) so a long review does not stall the event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

# Names the scorer in stored analyses: a change of package version can change scores, so
# consumers can tell (and rescore) analyses made by another version.
MODEL_NAME: Final = "vader-3.3.2"
# Well above the longest review (title 200 + body 10,000 characters) yet a bound on the CPU
# time one request can take; longer text is refused (callers answer 400).
MAX_TEXT_CHARS: Final = 20_000

POSITIVE: Final = "positive"
NEUTRAL: Final = "neutral"
NEGATIVE: Final = "negative"
LABELS: Final = (POSITIVE, NEUTRAL, NEGATIVE)

# The cut-offs VADER's authors recommend for classifying a text by its compound score
# (vaderSentiment README, "About the Scoring"): positive at >= 0.05, negative at <= -0.05,
# neutral strictly between.
POSITIVE_THRESHOLD: Final = 0.05
NEGATIVE_THRESHOLD: Final = -0.05

# How the title and the body of a review become one text: a sentence break, so VADER's rules
# (a "but" turning the sentiment, a negation reaching three words ahead) stay within each part.
REVIEW_JOINER: Final = ". "


class _Analyzer(Protocol):
    """What this module uses of vaderSentiment's untyped SentimentIntensityAnalyzer."""

    def polarity_scores(self, text: str) -> Mapping[str, float]: ...


_analyzer: _Analyzer | None = None
_analyzer_lock = threading.Lock()


def _shared_analyzer() -> _Analyzer:
    global _analyzer  # noqa: PLW0603 -- the one analyzer of the process, built on first use
    analyzer = _analyzer
    if analyzer is None:
        # Threads scoring their first text at once would otherwise each read the lexicon.
        with _analyzer_lock:
            analyzer = _analyzer
            if analyzer is None:
                analyzer = _analyzer = SentimentIntensityAnalyzer()
    return analyzer


def label_for(compound: float) -> str:
    """``positive``, ``neutral`` or ``negative`` for a compound score (see the thresholds)."""
    if compound >= POSITIVE_THRESHOLD:
        return POSITIVE
    if compound <= NEGATIVE_THRESHOLD:
        return NEGATIVE
    return NEUTRAL


@dataclass(frozen=True, slots=True)
class Sentiment:
    """VADER's scores of one text. ``compound`` is the normalised overall score in [-1, 1];
    ``positive``, ``neutral`` and ``negative`` are the shares of the text in each (they sum to
    1, or are all 0 for a text with no words). ``label`` always agrees with ``compound``."""

    compound: float
    positive: float
    neutral: float
    negative: float
    label: str

    def __post_init__(self) -> None:
        expected = label_for(self.compound)
        if self.label != expected:
            raise ValueError(
                f"label {self.label!r} contradicts compound {self.compound} ({expected!r})"
            )

    @classmethod
    def from_scores(
        cls, *, compound: float, positive: float, neutral: float, negative: float
    ) -> Sentiment:
        """The sentiment of these scores, labelled by the thresholds above."""
        return cls(
            compound=compound,
            positive=positive,
            neutral=neutral,
            negative=negative,
            label=label_for(compound),
        )

    def as_dict(self) -> dict[str, float | str]:
        return {
            "compound": self.compound,
            "positive": self.positive,
            "neutral": self.neutral,
            "negative": self.negative,
            "label": self.label,
        }


# What a text without words scores (VADER's own answer for it, without loading the lexicon).
_NOTHING_SAID = Sentiment(compound=0.0, positive=0.0, neutral=0.0, negative=0.0, label=NEUTRAL)


def score_text(text: str) -> Sentiment:
    """VADER's sentiment of ``text``; ValueError when it is longer than ``MAX_TEXT_CHARS``."""
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"the text is {len(text)} characters long; at most {MAX_TEXT_CHARS}")
    if not text.strip():
        return _NOTHING_SAID
    scores = _shared_analyzer().polarity_scores(text)
    # The library is untyped: convert each value, so no Any leaves this module.
    return Sentiment.from_scores(
        compound=float(scores["compound"]),
        positive=float(scores["pos"]),
        neutral=float(scores["neu"]),
        negative=float(scores["neg"]),
    )


def score_review(title: str | None, body: str | None) -> Sentiment:
    """The sentiment of a review's title and body read as one text (joined with ``". "``).

    Either may be missing or blank; a review with neither scores neutral, all zeros. The length
    limit applies to the joined text.
    """
    parts = [part.strip() for part in (title, body) if part is not None and part.strip()]
    return score_text(REVIEW_JOINER.join(parts))


__all__ = [
    "LABELS",
    "MAX_TEXT_CHARS",
    "MODEL_NAME",
    "NEGATIVE",
    "NEGATIVE_THRESHOLD",
    "NEUTRAL",
    "POSITIVE",
    "POSITIVE_THRESHOLD",
    "Sentiment",
    "label_for",
    "score_review",
    "score_text",
]
