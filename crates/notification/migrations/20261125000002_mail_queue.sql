-- E-mails to send, queued in the transaction that records their notification and sent by the
-- mailer after it; a failed attempt is rescheduled, so the queue holds each mail until it is
-- delivered (SENT) or refused for good (FAILED).
CREATE TABLE mail_queue (
    id              TEXT   NOT NULL PRIMARY KEY,
    notification_id TEXT   NOT NULL UNIQUE REFERENCES notifications (id),
    to_address      TEXT   NOT NULL,
    to_name         TEXT   NOT NULL,
    subject         TEXT   NOT NULL,
    body            TEXT   NOT NULL,
    status          TEXT   NOT NULL CHECK (status IN ('PENDING', 'SENT', 'FAILED')),
    attempts        BIGINT NOT NULL,
    -- when a PENDING mail is next tried; while one is being sent, when its claim lapses
    next_attempt_at TEXT   NOT NULL,
    last_error      TEXT,
    created_at      TEXT   NOT NULL,
    sent_at         TEXT
);

CREATE INDEX mail_queue_due ON mail_queue (next_attempt_at) WHERE status = 'PENDING';
