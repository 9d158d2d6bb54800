-- Issue 16: whose private chat the bot gave the dashboard's menu button (setChatMenuButton with a Mini App), so
-- that at start-up it can put the default button back for someone who is no longer a coordinator or admin (or
-- for everyone, when the dashboard is switched off). A row lives exactly as long as the button may be in that
-- chat: it is deleted when the bot resets the button, and by /forget (storage/person_map.py); /mydata shows it.
CREATE TABLE dashboard_menu_buttons (
    telegram_user_id INTEGER PRIMARY KEY,
    set_at TEXT NOT NULL
);
