"""VADER review sentiment: real sentences, the review joining rule, limits and label cut-offs."""

from __future__ import annotations

import pytest

from movieverse.ml.sentiment import (
    MAX_TEXT_CHARS,
    MODEL_NAME,
    NEGATIVE_THRESHOLD,
    POSITIVE_THRESHOLD,
    Sentiment,
    label_for,
    score_review,
    score_text,
)


def test_a_glowing_review_is_positive() -> None:
    got = score_text(
        "This movie was wonderful: a moving story, brilliant acting and a gorgeous score."
    )
    assert got.label == "positive"
    assert got.compound >= POSITIVE_THRESHOLD
    assert got.positive > got.negative == 0.0


def test_a_scathing_review_is_negative() -> None:
    got = score_text("A dull, tedious mess. The plot is stupid and the acting is awful.")
    assert got.label == "negative"
    assert got.compound <= NEGATIVE_THRESHOLD
    assert got.negative > got.positive == 0.0


def test_plain_facts_are_neutral() -> None:
    got = score_text("The film is 120 minutes long and was released in 1994.")
    assert got == Sentiment(compound=0.0, positive=0.0, neutral=1.0, negative=0.0, label="neutral")


def test_vader_rules_apply_negation_and_but() -> None:
    # Not a bag of words: "not bad" reads as praise, and what follows "but" outweighs the rest.
    assert score_text("Not bad at all").label == "positive"
    turned = score_text("It was fine, but the ending was terrible.")
    assert turned.label == "negative"
    assert turned.compound < 0 < turned.positive


def test_shares_sum_to_one_and_as_dict_carries_every_field() -> None:
    got = score_text("Loved the cast, hated the ending.")
    assert got.positive + got.neutral + got.negative == pytest.approx(1.0, abs=0.002)
    assert got.as_dict() == {
        "compound": got.compound,
        "positive": got.positive,
        "neutral": got.neutral,
        "negative": got.negative,
        "label": got.label,
    }
    assert MODEL_NAME == "vader-3.3.2"


def test_a_review_reads_title_then_body_as_one_text() -> None:
    joined = score_review("Loved it", "The cast is superb.")
    assert joined == score_text("Loved it. The cast is superb.")
    assert joined.label == "positive"
    # A missing or blank part adds no separator: the other part is scored alone.
    assert score_review(None, "A dull, tedious mess.") == score_text("A dull, tedious mess.")
    assert score_review("Awful", "   ") == score_text("Awful")
    # The title counts: a mild body under a damning title is negative overall.
    assert score_review("Terrible, boring film", "It has actors.").label == "negative"
    assert score_text("It has actors.").label == "neutral"


@pytest.mark.parametrize(("title", "body"), [(None, None), ("", ""), ("  ", None), (None, "\n\t ")])
def test_an_empty_review_scores_neutral_zero(title: str | None, body: str | None) -> None:
    assert score_review(title, body) == Sentiment(
        compound=0.0, positive=0.0, neutral=0.0, negative=0.0, label="neutral"
    )


def test_over_long_text_is_refused() -> None:
    longest = "good " * (MAX_TEXT_CHARS // 5)
    assert len(longest) == MAX_TEXT_CHARS
    assert score_text(longest).label == "positive"
    with pytest.raises(ValueError, match="20001 characters"):
        score_text(longest + "!")
    # The limit is on what is scored: the title, separator and body together.
    with pytest.raises(ValueError, match="at most 20000"):
        score_review("Great", "x" * (MAX_TEXT_CHARS - 6))


@pytest.mark.parametrize(
    ("compound", "label"),
    [
        (1.0, "positive"),
        (0.05, "positive"),  # the cut-off itself is positive
        (0.0499, "neutral"),
        (0.0, "neutral"),
        (-0.0499, "neutral"),
        (-0.05, "negative"),  # and negative at the other end
        (-1.0, "negative"),
    ],
)
def test_labels_follow_vaders_thresholds(compound: float, label: str) -> None:
    assert label_for(compound) == label
    made = Sentiment.from_scores(compound=compound, positive=0.2, neutral=0.7, negative=0.1)
    assert made.label == label
    assert made.as_dict()["label"] == label


def test_a_label_that_contradicts_its_compound_is_refused() -> None:
    with pytest.raises(ValueError, match="contradicts"):
        Sentiment(compound=0.05, positive=0.5, neutral=0.5, negative=0.0, label="neutral")
    with pytest.raises(ValueError, match="contradicts"):
        Sentiment(compound=0.3, positive=0.5, neutral=0.5, negative=0.0, label="glowing")
