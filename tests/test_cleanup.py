"""Cleanup of the OCR image: flat paper, no scanner edges or shadows, stretched contrast."""

from __future__ import annotations

import functools

import cv2
import numpy as np
import pytest
from PIL import Image

from ocr.cleanup import binarize, clean_for_ocr, flatten, stretch_contrast
from tests.pages import DECISION, photocopy, render_page, scanner_edges

DPI = 200


@functools.cache
def clean_page() -> np.ndarray:
    return np.asarray(render_page(DECISION, dpi=DPI, color=False).convert("L"))


def ink(gray: np.ndarray) -> np.ndarray:
    return gray < 128


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_black_border_and_shadow_become_paper_and_text_stays(seed: int) -> None:
    page = clean_page()
    soiled = np.asarray(scanner_edges(Image.fromarray(page), seed=seed))
    assert (soiled < 60).mean() > 0.01  # the generator did put a black border in
    out = clean_for_ocr(soiled, DPI)
    text_free = cv2.erode(page, np.ones((5, 5), np.uint8)) > 250  # paper away from text
    # where the original page is paper, the cleaned one is paper too: border and shadow gone
    assert (out[text_free] < 128).mean() < 0.001
    # the text keeps (nearly) all its ink pixels
    kept = (ink(out) & ink(page)).sum() / ink(page).sum()
    assert kept > 0.94  # the 3x3 median against specks rounds the letters' corners


def test_washed_out_photocopy_gets_full_contrast() -> None:
    worn = np.asarray(photocopy(Image.fromarray(clean_page()), seed=1))
    assert worn.min() >= 40 and np.percentile(worn, 50) < 245  # grey paper, grey ink
    out = clean_for_ocr(worn, DPI)
    assert np.percentile(out, 50) >= 250  # white paper
    assert np.percentile(out[ink(clean_page())], 25) <= 30  # black ink


def test_clean_page_is_left_nearly_as_is() -> None:
    page = clean_page()
    out = clean_for_ocr(page, DPI)
    assert np.abs(out.astype(int) - page).mean() < 3


def test_binarized_ocr_image_is_black_and_white_with_the_ink() -> None:
    page = clean_page()
    out = clean_for_ocr(page, DPI, bilevel=True)
    assert set(np.unique(out)) == {0, 255}
    assert abs(int((out == 0).sum()) - int(ink(page).sum())) < 0.2 * ink(page).sum()


def test_flat_or_tiny_images_do_not_break() -> None:
    for img in (np.full((300, 200), 255, np.uint8), np.zeros((300, 200), np.uint8)):
        out = clean_for_ocr(img, DPI)
        assert out.shape == img.shape
    assert clean_for_ocr(np.zeros((1, 1), np.uint8), DPI).shape == (1, 1)
    flat = np.full((50, 50), 200, np.uint8)
    assert stretch_contrast(flat) is flat
    assert flatten(flat, DPI).min() >= 250
    assert set(np.unique(binarize(np.array([[0, 255]], np.uint8)))) == {0, 255}


def test_colour_input_is_accepted() -> None:
    rgb = np.asarray(render_page(DECISION, dpi=DPI, color=True))
    out = clean_for_ocr(rgb, DPI)
    assert out.ndim == 2 and out.shape == rgb.shape[:2]


def test_photocopy_specks_are_removed_and_the_text_kept() -> None:
    page = clean_page()
    specks = np.random.default_rng(0).random(page.shape) < 0.002
    specked = np.where(specks, 0, page).astype(np.uint8)
    out = clean_for_ocr(specked, DPI)
    text_free = cv2.erode(page, np.ones((5, 5), np.uint8)) > 250
    assert (out[text_free & specks] < 128).mean() < 0.05  # single-pixel specks are gone
    assert (ink(out) & ink(page)).sum() / ink(page).sum() > 0.95  # the letters are not
