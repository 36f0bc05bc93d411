"""Train the type model from the generated corpus plus the clerks' corrections.

``python -m classify.train --out classify/models/type-model-v1.joblib`` rebuilds the packaged
artifact; ``sohoa train`` retrains into the data dir, where the service picks it up.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from classify.catalogue import Catalogue, load_catalogue
from classify.corpus import generate, to_pages
from classify.learning import Correction, load_corrections
from classify.model import TypeModel, component_input, fit, save, views_of

TRAIN_SEED = 20231
CORRECTION_WEIGHT = 5.0  # one clerk's verdict counts as much as five generated samples


def corpus_inputs(
    n_per_type: int, seed: int, catalogue: Catalogue
) -> tuple[list[tuple[str, list[float]]], list[str]]:
    """Generated samples, each once with a random level of OCR damage (a fifth clean)."""
    rnd = random.Random(seed)
    inputs, labels = [], []
    for i, sample in enumerate(generate(n_per_type, seed)):
        if sample.code not in catalogue.codes:
            continue
        clean = rnd.random() < 0.2
        pages = to_pages(sample, None if clean else seed * 100003 + i, rnd.uniform(0.3, 2.0))
        if rnd.random() < 0.15:  # a poor read: only some lines of the first page survive
            kept = [x for x in pages[0].text.splitlines() if rnd.random() < 0.35]
            pages = [replace(pages[0], text="\n".join(kept))]
        views = views_of(pages, catalogue)
        if views:
            inputs.append(component_input(views, catalogue))
            labels.append(sample.code)
    return inputs, labels


def correction_inputs(
    corrections: Sequence[Correction], catalogue: Catalogue
) -> tuple[list[tuple[str, list[float]]], list[str]]:
    inputs, labels = [], []
    for c in corrections:
        if c.type is None or c.type not in catalogue.codes:
            continue
        views = views_of(c.to_pages(), catalogue)
        if views:
            inputs.append(component_input(views, catalogue))
            labels.append(c.type)
    return inputs, labels


def field_agreement(corrections: Sequence[Correction], catalogue: Catalogue) -> dict[str, Any]:
    """Per field: how often the extractors already give the clerk's value."""
    from classify import extract_component_fields

    out: dict[str, list[int]] = {}
    for c in corrections:
        if not c.fields:
            continue
        code = c.type or c.predicted_type or catalogue.fallback
        got = extract_component_fields(c.to_pages(), code, catalogue)
        for name, value in c.fields.items():
            ok_total = out.setdefault(name, [0, 0])
            ok_total[0] += int(got.get(name) is not None and got[name].value == value)
            ok_total[1] += 1
    return {k: {"agree": a, "corrected": n} for k, (a, n) in sorted(out.items())}


def retrain(
    out: Path,
    *,
    corrections_file: Path | None = None,
    n_per_type: int = 150,
    seed: int = TRAIN_SEED,
    catalogue: Catalogue | None = None,
) -> tuple[TypeModel, dict[str, Any]]:
    """Fit on corpus plus corrections, save atomically to ``out``; (model, report)."""
    cat = catalogue or load_catalogue()
    started = time.perf_counter()
    inputs, labels = corpus_inputs(n_per_type, seed, cat)
    corrections = load_corrections(corrections_file) if corrections_file else []
    c_inputs, c_labels = correction_inputs(corrections, cat)
    weights = [1.0] * len(inputs) + [CORRECTION_WEIGHT] * len(c_inputs)
    meta = {
        "corpus_per_type": n_per_type,
        "corpus_seed": seed,
        "corpus_samples": len(inputs),
        "corrections": len(c_inputs),
    }
    model = fit(inputs + c_inputs, labels + c_labels, weights, meta)
    save(model, out)
    report = {
        **meta,
        "codes": list(model.codes),
        "seconds": round(time.perf_counter() - started, 1),
        "artifact": str(out),
        "artifact_bytes": out.stat().st_size,
        "field_agreement": field_agreement(corrections, cat),
    }
    if c_inputs:  # the new model must now agree with the clerks it learned from
        pred = model.classifier.predict(_matrix(model, c_inputs))
        report["corrections_reproduced"] = int(
            sum(p == y for p, y in zip(pred, c_labels, strict=True))
        )
    return model, report


def _matrix(model: TypeModel, inputs):
    from classify.model import feature_matrix

    return feature_matrix(inputs, model.vectorizers)


def main(argv: list[str] | None = None) -> int:
    import json

    from classify.model import packaged_path

    p = argparse.ArgumentParser(prog="python -m classify.train", description=__doc__)
    p.add_argument("--out", type=Path, default=packaged_path())
    p.add_argument("--corrections", type=Path)
    p.add_argument("--per-type", type=int, default=150)
    p.add_argument("--seed", type=int, default=TRAIN_SEED)
    args = p.parse_args(argv)
    _, report = retrain(
        args.out, corrections_file=args.corrections, n_per_type=args.per_type, seed=args.seed
    )
    json.dump(report, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
