"""The learned type classifier: character and word n-grams of the OCR-tolerant text view,
beside the rule scores and layout features, into a multinomial logistic regression.

The artifact is a joblib file holding the fitted vectorizers and model, the type codes and
metadata (version, when, from what). Which artifact is used:

1. ``$SOHOA_TYPE_MODEL`` if set;
2. else ``$SOHOA_DATA_DIR/models/type-model.joblib`` (default data dir ``var``), which
   ``sohoa train`` writes, so a retrained model is picked up without a code change;
3. else the packaged ``classify/models/type-model-v1.joblib``.

It is reloaded when the file's mtime changes. Load only artifacts you wrote yourself:
joblib files are pickles.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from classify.catalogue import LAYOUT_FEATURES, Catalogue, load_catalogue
from classify.rules import PageView, decide, score_types, view_page
from models.document import PageResult

FEATURE_VERSION = 2
PACKAGED = "type-model-v1.joblib"


@dataclass
class TypeModel:
    """A fitted classifier and what it knows."""

    codes: tuple[str, ...]
    vectorizers: tuple[Any, Any]  # char n-grams, word n-grams
    classifier: Any
    meta: dict[str, Any] = field(default_factory=dict)

    def probabilities(self, views: Sequence[PageView], catalogue: Catalogue) -> dict[str, float]:
        """Probability of every type code for one component's (non-blank) page views."""
        x = feature_matrix([component_input(views, catalogue)], self.vectorizers)
        probs = self.classifier.predict_proba(x)[0]
        return {str(c): float(p) for c, p in zip(self.classifier.classes_, probs, strict=True)}

    def predict(self, views: Sequence[PageView], catalogue: Catalogue) -> tuple[str, float]:
        probs = self.probabilities(views, catalogue)
        code = max(probs, key=probs.__getitem__)
        return code, probs[code]


def component_text(views: Sequence[PageView]) -> str:
    """The key view (folded, look-alikes merged) of the pages, first page first."""
    return "\n\n".join(v.text.key for v in views)


def dense_features(views: Sequence[PageView], catalogue: Catalogue) -> list[float]:
    """Rule scores (scaled), layout features of any page, page count, text size."""
    scores = score_types(views, catalogue)
    feats = [min(s, 20.0) / 10.0 for s in scores.values()]
    ruled, sure = decide(scores, catalogue)  # the rules' verdict, one-hot by its confidence
    feats += [sure * (code == ruled) for code in catalogue.codes]
    present = set().union(*(v.features for v in views)) if views else set()
    feats += [float(f in present) for f in LAYOUT_FEATURES]
    words = sum(len(v.text.folded.split()) for v in views)
    digits = sum(c.isdigit() for v in views for c in v.text.folded)
    letters = sum(c.isalpha() for v in views for c in v.text.folded) or 1
    uppers = sum(len(v.blocks) for v in views)
    feats += [
        min(len(views), 10) / 5.0,
        math.log1p(words) / 5.0,
        min(digits / letters, 2.0),
        min(uppers, 20) / 10.0,
    ]
    return feats


def component_input(views: Sequence[PageView], catalogue: Catalogue) -> tuple[str, list[float]]:
    return component_text(views), dense_features(views, catalogue)


def views_of(pages: Sequence[PageResult], catalogue: Catalogue) -> list[PageView]:
    return [view_page(p, catalogue.settings) for p in pages if not p.blank and p.text.strip()]


def feature_matrix(inputs: Sequence[tuple[str, list[float]]], vectorizers: tuple[Any, Any]):
    from scipy.sparse import csr_matrix, hstack

    texts = [t for t, _ in inputs]
    dense = csr_matrix(np.array([d for _, d in inputs], dtype=np.float64) * 3.0)
    return hstack([vectorizers[0].transform(texts), vectorizers[1].transform(texts), dense]).tocsr()


def fit(
    inputs: Sequence[tuple[str, list[float]]],
    labels: Sequence[str],
    weights: Sequence[float] | None = None,
    meta: dict[str, Any] | None = None,
) -> TypeModel:
    """Fit vectorizers and a logistic regression on component inputs and their codes."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts = [t for t, _ in inputs]
    chars = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), min_df=3, max_features=12000, sublinear_tf=True
    )
    words = TfidfVectorizer(
        ngram_range=(1, 2), min_df=2, max_features=6000, sublinear_tf=True, token_pattern=r"\w+"
    )
    chars.fit(texts)
    words.fit(texts)
    vectorizers = (chars, words)
    x = feature_matrix(inputs, vectorizers)
    clf = LogisticRegression(C=4.0, max_iter=3000)
    clf.fit(x, list(labels), sample_weight=None if weights is None else np.asarray(weights))
    for v in vectorizers:  # the fitted vocabulary is enough; drop the stop-word cache
        v.stop_words_ = None
    codes = tuple(str(c) for c in clf.classes_)
    info = {"feature_version": FEATURE_VERSION, "trained_at": time.time(), **(meta or {})}
    return TypeModel(codes, vectorizers, clf, info)


def save(model: TypeModel, path: Path) -> Path:
    import joblib

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    payload = {
        "codes": model.codes,
        "vectorizers": model.vectorizers,
        "classifier": model.classifier,
        "meta": model.meta,
    }
    joblib.dump(payload, tmp, compress=3)
    tmp.replace(path)  # atomic: a running service never reads half a model
    return path


def load(path: Path) -> TypeModel:
    import joblib

    d = joblib.load(path)
    if d["meta"].get("feature_version") != FEATURE_VERSION:
        raise ValueError(f"{path}: feature version {d['meta'].get('feature_version')}")
    return TypeModel(tuple(d["codes"]), tuple(d["vectorizers"]), d["classifier"], d["meta"])


def packaged_path() -> Path:
    return Path(str(resources.files("classify").joinpath("models", PACKAGED)))


def data_dir_path(data_dir: str | os.PathLike | None = None) -> Path:
    """Where ``sohoa train`` puts a retrained model for this data dir."""
    base = data_dir if data_dir is not None else os.environ.get("SOHOA_DATA_DIR", "var")
    return Path(base) / "models" / "type-model.joblib"


def active_path() -> Path | None:
    """The artifact in use (see module docstring), None when there is none."""
    explicit = os.environ.get("SOHOA_TYPE_MODEL")
    if explicit:
        return Path(explicit)
    for p in (data_dir_path(), packaged_path()):
        if p.is_file():
            return p
    return None


_CACHE: dict[str, tuple[float, TypeModel]] = {}


def active_model() -> TypeModel | None:
    """The current model, reloaded when its file changes; None without an artifact."""
    path = active_path()
    if path is None or not path.is_file():
        return None
    mtime = path.stat().st_mtime
    cached = _CACHE.get(str(path))
    if cached is None or cached[0] != mtime:
        cached = (mtime, load(path))
        _CACHE[str(path)] = cached
    return cached[1]


def predict_pages(
    pages: Sequence[PageResult], model: TypeModel, catalogue: Catalogue | None = None
) -> tuple[str, float]:
    """Type and probability of one component given as pages."""
    cat = catalogue or load_catalogue()
    views = views_of(pages, cat)
    if not views:
        return cat.fallback, 0.0
    return model.predict(views, cat)
