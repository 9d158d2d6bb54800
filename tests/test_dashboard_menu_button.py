"""The dashboard's menu button follows the configuration across restarts: given to coordinators and admins,
taken back (the default button again) from someone who is no longer one, and from everyone when the dashboard
is switched off. The bot remembers whom it gave the button in SQLite (dashboard_menu_buttons)."""

from __future__ import annotations

from tests.conftest import COORDINATOR_ID, LEAD_ID, OTHER_COORDINATOR_ID, hub_settings, make_settings
from tests.dashboard_support import free_port

ADMIN_ID = 9201
LEFT_AND_BLOCKED_ID = 9202  # a second Woking coordinator, removed, who has blocked the bot meanwhile
NEW_CAMDEN_ID = 9203
MINI_APP = {"type": "web_app", "text": "Dashboard", "web_app": {"url": "https://hub.example.org/dashboard/app"}}
DEFAULT = {"type": "default"}


def settings_with(api, db_path, *, woking: list[int], camden: list[int], admins: list[int], enabled: bool = True):
    hubs = [hub_settings(coordinators=woking),
            hub_settings(id="camden", name="Camden Hub", coordinators=camden, safeguarding_lead=camden[0],
                         weekly=[{"weekday": "thursday", "start": "16:00"}])]
    return make_settings(api, db_path, hubs=hubs, admins=admins, dashboard={
        "enabled": enabled, "listen": "127.0.0.1", "port": free_port(), "public_url": "https://hub.example.org"})


async def test_a_removed_coordinator_gets_the_default_menu_button_back_at_the_next_start(start_bot, api, db_path):
    first = await start_bot(settings_with(api, db_path, woking=[COORDINATOR_ID, LEFT_AND_BLOCKED_ID],
                                          camden=[OTHER_COORDINATOR_ID], admins=[ADMIN_ID]))
    for user in (COORDINATOR_ID, LEFT_AND_BLOCKED_ID, OTHER_COORDINATOR_ID, ADMIN_ID):
        assert api.menu_buttons[user] == MINI_APP, user
    assert LEAD_ID not in api.menu_buttons
    assert await first.store.menu_button_holders() == {COORDINATOR_ID, LEFT_AND_BLOCKED_ID, OTHER_COORDINATOR_ID,
                                                       ADMIN_ID}
    await first.stop()

    # Camden has a new coordinator; the admin, the second Woking coordinator (who has blocked the bot) and
    # Camden's old coordinator are gone from the configuration.
    api.faults.blocked_chats.add(LEFT_AND_BLOCKED_ID)
    second = await start_bot(settings_with(api, db_path, woking=[COORDINATOR_ID], camden=[NEW_CAMDEN_ID], admins=[]))
    assert api.menu_buttons[OTHER_COORDINATOR_ID] == DEFAULT
    assert api.menu_buttons[ADMIN_ID] == DEFAULT
    assert api.menu_buttons[COORDINATOR_ID] == MINI_APP and api.menu_buttons[NEW_CAMDEN_ID] == MINI_APP
    # A blocked chat cannot be changed: the bot tried once and does not keep the id to try for ever.
    assert api.menu_buttons[LEFT_AND_BLOCKED_ID] == MINI_APP
    assert [call.error_code for call in api.calls if call.method == "setChatMenuButton"
            and call.chat_id == LEFT_AND_BLOCKED_ID][-1] == 403
    assert LEAD_ID not in api.menu_buttons
    assert await second.store.menu_button_holders() == {COORDINATOR_ID, NEW_CAMDEN_ID}

    # /dashboard does not offer the former coordinator the button (or a sign-in link) either.
    former = api.user(OTHER_COORDINATOR_ID, "Olga")
    await former.send("/dashboard")
    reply = former.messages()[-1]
    assert "reply_markup" not in reply and "signin" not in reply["text"] and "Camden" not in reply["text"]
    await second.stop()

    # The dashboard switched off: nobody keeps the button, and nothing is left to remember.
    calls = len([call for call in api.calls if call.method == "setChatMenuButton"])
    third = await start_bot(settings_with(api, db_path, woking=[COORDINATOR_ID], camden=[NEW_CAMDEN_ID], admins=[],
                                          enabled=False))
    assert api.menu_buttons[COORDINATOR_ID] == DEFAULT and api.menu_buttons[NEW_CAMDEN_ID] == DEFAULT
    assert await third.store.menu_button_holders() == set()
    assert len([call for call in api.calls if call.method == "setChatMenuButton"]) == calls + 2
    await third.stop()

    # Started again the same way: no calls at all (the bot knows nobody has its button).
    fourth = await start_bot(settings_with(api, db_path, woking=[COORDINATOR_ID], camden=[NEW_CAMDEN_ID], admins=[],
                                           enabled=False))
    assert len([call for call in api.calls if call.method == "setChatMenuButton"]) == calls + 2
    await fourth.stop()


async def test_the_menu_button_record_is_the_coordinators_data(start_bot, api, db_path):
    """/mydata shows it and /forget deletes it (storage/person_map.py), touching no one else's."""
    bot = await start_bot(settings_with(api, db_path, woking=[COORDINATOR_ID], camden=[OTHER_COORDINATOR_ID],
                                        admins=[]))
    export = await bot.store.export_person(COORDINATOR_ID)
    assert [row["telegram_user_id"] for row in export.tables["dashboard_menu_buttons"]] == [COORDINATOR_ID]
    cleo = api.user(COORDINATOR_ID, "Cleo")
    await cleo.send("/forget")
    await cleo.tap("Yes, delete everything")
    assert await bot.store.menu_button_holders() == {OTHER_COORDINATOR_ID}
    assert await bot.store.where_values_appear([COORDINATOR_ID]) == []
