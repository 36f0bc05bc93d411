# sohoa: API, worker and watcher share this image (Debian bookworm, like the dev machines).
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      tesseract-ocr tesseract-ocr-vie tesseract-ocr-osd tesseract-ocr-eng poppler-utils qpdf \
      procps \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY ingest ingest
COPY ocr ocr
COPY classify classify
COPY storage storage
COPY api api
COPY models models
# the dependencies include distributed mode's clients (Celery, minio, psycopg 3)
RUN pip install --no-cache-dir .
RUN useradd --system --create-home --uid 10001 sohoa \
 && mkdir -p /var/sohoa /srv/scanner-inbox && chown sohoa /var/sohoa /srv/scanner-inbox
USER sohoa
ENV OMP_THREAD_LIMIT=1 SOHOA_DATA_DIR=/var/sohoa SOHOA_HOST=0.0.0.0 PYTHONUNBUFFERED=1
EXPOSE 8000
CMD ["sohoa", "serve"]
