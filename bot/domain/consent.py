"""Versions of the consent texts people agree to; a changed text gets a new version."""

CONTACT = "contact"
WELLBEING = "wellbeing"

# The version names the text shown (privacy.notice + join.contact_question, join.wellbeing_question).
TEXT_VERSIONS = {
    CONTACT: "contact-2026-11-v1",
    WELLBEING: "wellbeing-2026-11-v1",
}
