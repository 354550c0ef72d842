"""The bot's process: its channels, web pages, command line and the wiring between them."""

from bot.aiogram_models import defer_aiogram_models

defer_aiogram_models()  # before anything imports aiogram: its models are built when first used
