"""imm-bot: reminders, RSVPs, wellbeing check-ins and summaries for IMM's community music hubs."""

import os

# PTB 22 warns when RetryAfter.retry_after is read as seconds; ask for timedeltas instead.
os.environ.setdefault("PTB_TIMEDELTA", "1")
