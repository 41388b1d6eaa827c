-- Officials listed by agency for the staff page (citizens, the many, are left out).
CREATE INDEX users_officials ON users (agency_code, username) WHERE role <> 'citizen';
