"""python -m bot: the same as the imm-bot command."""

from bot.cli import main

raise SystemExit(main())
