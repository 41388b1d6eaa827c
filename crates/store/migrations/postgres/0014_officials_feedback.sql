-- Officials listed by agency for the staff page (citizens, the many, are left out).
CREATE INDEX users_officials ON users (agency_code, username) WHERE role <> 'citizen';

-- Feedback and petitions (phản ánh, kiến nghị) to an agency, optionally about a procedure,
-- with the answer and whether it is published.
CREATE TABLE feedback (
    id             BIGSERIAL PRIMARY KEY,
    author         TEXT NOT NULL REFERENCES users (username),
    procedure_code TEXT,
    agency_code    TEXT NOT NULL REFERENCES agencies (code),
    subject        TEXT NOT NULL,
    body           TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    due_at         TIMESTAMPTZ NOT NULL,
    answer         TEXT,
    answered_by    TEXT REFERENCES users (username),
    answered_at    TIMESTAMPTZ,
    published      BOOLEAN NOT NULL DEFAULT FALSE
);
-- An agency's desk: the unanswered first, by deadline.
CREATE INDEX feedback_agency ON feedback (agency_code, due_at);
CREATE INDEX feedback_author ON feedback (author, created_at);
-- The published answers, of a procedure or all of them, newest first.
CREATE INDEX feedback_published ON feedback (procedure_code, answered_at) WHERE published;
CREATE INDEX feedback_published_all ON feedback (answered_at) WHERE published;
