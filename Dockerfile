# imm-bot in a container: `docker build -t imm-bot .`, then see README.md, "Deploy".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A user without a login or root rights runs the bot; it owns only its working folder and the data volume.
RUN useradd --system --uid 10001 --user-group --home-dir /srv/imm-bot --create-home --shell /usr/sbin/nologin imm \
 && mkdir -p /srv/imm-bot/data \
 && chown -R imm:imm /srv/imm-bot

WORKDIR /build
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN pip install . && rm -rf /build

USER imm
WORKDIR /srv/imm-bot
# The database lives on the volume; config.toml is read from the working folder (mount it read-only),
# and the token comes from the environment (IMM_TELEGRAM__TOKEN), never from the image.
ENV IMM_STORAGE__PATH=/srv/imm-bot/data/imm-bot.sqlite3
VOLUME ["/srv/imm-bot/data"]
# Only used in webhook mode (telegram.webhook.listen must then be 0.0.0.0 inside the container).
EXPOSE 8443

# SIGTERM (docker stop) lets the message in flight finish, then closes the database.
STOPSIGNAL SIGTERM
CMD ["imm-bot", "run"]
