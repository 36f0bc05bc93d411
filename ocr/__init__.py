"""Images and text: loading scans, turning pages upright, OCR and the searchable PDF."""
