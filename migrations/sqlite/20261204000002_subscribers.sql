-- Status-page subscribers (double opt-in), what they are told, and how each
-- message went. A notice (an update, a component change, maintenance) is
-- stored once where it happens; the leader expands it into one message per
-- subscriber in the mail outbox and delivers those over SMTP.
CREATE TABLE subscribers (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    email             TEXT    NOT NULL UNIQUE,
    -- JSON array of component keys; empty: every public component.
    components        TEXT    NOT NULL,
    state             TEXT    NOT NULL,
    confirm_hash      TEXT,
    unsubscribe_token TEXT    NOT NULL UNIQUE,
    created_at        BIGINT  NOT NULL,
    confirm_sent_at   BIGINT,
    confirmed_at      BIGINT,
    unsubscribed_at   BIGINT
);
CREATE TABLE subscribe_requests (
    throttle_key TEXT   NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX subscribe_requests_by_key ON subscribe_requests (throttle_key, at);
CREATE TABLE mail_notices (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    -- JSON: subject and text of the notice, and the component keys it concerns.
    payload       TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    fanned_out_at BIGINT
);
CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    subscriber_id   BIGINT  NOT NULL REFERENCES subscribers (id),
    kind            TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    attempts        BIGINT  NOT NULL,
    next_attempt_at BIGINT  NOT NULL,
    created_at      BIGINT  NOT NULL
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at);
CREATE TABLE mail_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    subscriber_id BIGINT  NOT NULL REFERENCES subscribers (id),
    kind          TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    outcome       TEXT    NOT NULL,
    error         TEXT,
    at            BIGINT  NOT NULL
);
CREATE INDEX mail_log_by_subscriber ON mail_log (subscriber_id, id);
-- The public status each component's subscribers were last told.
CREATE TABLE subscriber_component_status (
    component_key TEXT   PRIMARY KEY,
    status        TEXT   NOT NULL,
    at            BIGINT NOT NULL
);
